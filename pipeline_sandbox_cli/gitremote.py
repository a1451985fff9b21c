"""Which branches exist on the git remote (``git ls-remote --heads``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

HEADS = "refs/heads/"


class GitRemoteError(Exception):
    """The remote's branches could not be listed; says what git answered."""


def remote_branches(git_dir: Path, remote: str, timeout: float = 60.0) -> set[str]:
    """Names of every branch on ``remote`` (a remote name of the checkout at ``git_dir``, or a URL).

    Raises:
        GitRemoteError: git is missing, or the remote did not answer; nothing can then be called gone.
    """
    git = shutil.which("git")
    if git is None:
        raise GitRemoteError("no `git` command on PATH")
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell; the remote is one argument
            [git, "-C", str(git_dir), "ls-remote", "--heads", "--", remote],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            # No password prompt: in CI there is nobody to answer it, and gc must not hang.
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except subprocess.TimeoutExpired:
        raise GitRemoteError(f"`git ls-remote --heads {remote}` did not answer in {timeout:.0f}s") from None
    if result.returncode != 0:
        said = result.stderr.strip().splitlines()[-1:] or ["no output"]
        raise GitRemoteError(f"`git ls-remote --heads {remote}` in {git_dir} failed: {said[0]}")
    branches = set()
    for line in result.stdout.splitlines():
        _, _, ref = line.partition("\t")
        if ref.startswith(HEADS):
            branches.add(ref[len(HEADS) :])
    return branches
