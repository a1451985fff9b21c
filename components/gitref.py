"""What git accepts as a branch name (``git check-ref-format --branch``), checked without git."""

from __future__ import annotations

import re

_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
GIT_BRANCH_RULES = (
    "a git branch name: no spaces or control characters, none of ~ ^ : ? * [ \\, no '..' or '@{', "
    "no component starting with '.' or ending with '.lock', not starting with '-' or ending with '/' or '.'"
)


def is_valid_git_branch(name: str) -> bool:
    """True when git itself would accept ``name`` as a branch name (and it is not ``HEAD``)."""
    # "HEAD" and "@" name the current checkout, not a branch; git's --branch mode lets some through.
    if not name or name in ("HEAD", "@") or name.startswith("-"):
        return False
    if _FORBIDDEN_CHARACTERS.search(name) or ".." in name or "@{" in name:
        return False
    if name.endswith(("/", ".")):
        return False
    return all(
        component and not component.startswith(".") and not component.endswith(".lock")
        for component in name.split("/")
    )
