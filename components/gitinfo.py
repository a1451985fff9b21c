"""What the local git checkout says: the branch, the commit and the author's e-mail.

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


def _git(directory: str, *args: str) -> str | None:
    git = shutil.which("git")
    if git is None or not Path(directory).is_dir():
        return None
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [git, "-C", directory, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    value = result.stdout.strip()
    return value if result.returncode == 0 and value else None
