"""What the local git checkout says: the branch, the commit, the author's e-mail, and whether the
commit and a branch are published (committed cleanly and on a remote).

Read once per program run through the ``git`` command (local only, never the network). Every field
is None when git cannot say, so callers can ask the user to set the matching config key instead.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitCheckout:
    """The state of a working directory's git checkout."""

    directory: str
    branch: str | None
    """The checked-out branch; None on a detached HEAD or outside a repository."""
    commit: str | None
    user_email: str | None


def read_checkout(directory: str | Path) -> GitCheckout:
    """Reads branch, HEAD commit and ``user.email`` of the checkout at ``directory``."""
    path = str(directory)
    return GitCheckout(
        directory=path,
        branch=_git(path, "symbolic-ref", "--quiet", "--short", "HEAD"),
        commit=_git(path, "rev-parse", "--verify", "--quiet", "HEAD"),
        user_email=_git(path, "config", "user.email"),
    )


def uncommitted_paths(directory: str | Path) -> list[str] | None:
    """Paths whose content differs from HEAD: modified, staged or untracked (not ignored) files.

    None when git cannot say (no git, not a repository).
    """
    output = _git_output(str(directory), "status", "--porcelain", "--untracked-files=normal")
    return None if output is None else [line[3:] for line in output.splitlines() if line.strip()]


def is_on_a_remote(directory: str | Path, commit: str) -> bool | None:
    """Whether ``commit`` is in any remote-tracking branch, as far as this clone knows.

    Nothing is fetched: a commit pushed from another clone counts only after ``git fetch``. None when
    git cannot say.
    """
    output = _git_output(str(directory), "branch", "--remotes", "--contains", commit)
    return None if output is None else bool(output.strip())


def has_remote_tracking_branch(directory: str | Path, branch: str) -> bool | None:
    """Whether some remote of the checkout has a remote-tracking ref for ``branch``
    (``refs/remotes/<remote>/<branch>``), as far as this clone knows.

    Nothing is fetched: a branch pushed from another clone counts only after ``git fetch``. None when
    git cannot say.
    """
    remotes = _git_output(str(directory), "remote")
    refs = _git_output(str(directory), "for-each-ref", "--format=%(refname)", "refs/remotes/")
    if remotes is None or refs is None:
        return None
    known = set(refs.split())
    return any(f"refs/remotes/{remote}/{branch}" in known for remote in remotes.split())


def _git(directory: str, *args: str) -> str | None:
    value = (_git_output(directory, *args) or "").strip()
    return value or None


def _git_output(directory: str, *args: str) -> str | None:
    """What ``git -C directory args`` prints, or None when it fails or git is missing."""
    git = shutil.which("git")
    if git is None or not Path(directory).is_dir():
        return None
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [git, "-C", directory, *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None
