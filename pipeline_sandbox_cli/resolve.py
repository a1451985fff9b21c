"""Which stack a command means: the one named, or the sandbox of a git branch.

The stack naming convention: a branch's sandbox stack is named like the sandbox itself,
``sbx-<branch>`` (``components.naming``: the lakeFS branch and namespace name). One branch has one
sandbox (those names come from the branch alone), so the branch's stack is found the same way on
every machine and in CI. Stacks made by hand under other names are found by their ``gitBranch``.
"""

from __future__ import annotations

from pathlib import Path

from components.gitinfo import read_checkout
from components.naming import sandbox_names
from pipeline_sandbox_cli.backend import StackBackend
from pipeline_sandbox_cli.inventory import is_tier, read_inventory
from pipeline_sandbox_cli.usage import UsageError


def stack_name_for(branch: str) -> str:
    """The conventional sandbox stack name of ``branch`` (a valid stack name: [a-z0-9-])."""
    return sandbox_names(branch).slug


def current_branch(project_dir: Path, given: str | None) -> str:
    """``given``, else the branch checked out in the project.

    Raises:
        UsageError: neither says a branch.
    """
    if given is not None:
        if not given.strip():
            raise UsageError("--branch: expected a git branch name, got an empty one")
        return given
    branch = read_checkout(project_dir).branch
    if branch is None:
        raise UsageError(
            f"{project_dir} has no branch checked out (detached HEAD?); pass --branch or a stack"
        )
    return branch


def find_branch_stack(backend: StackBackend, branch: str, parallel: int) -> str | None:
    """The branch's sandbox stack: ``sbx-<branch>`` if it exists, else the one stack whose
    ``gitBranch`` output is the branch.

    Raises:
        UsageError: several stacks claim the branch.
    """
    conventional = stack_name_for(branch)
    if backend.exists(conventional):
        return conventional
    inventory = read_inventory(backend, parallel=parallel)
    owners = [s.stack for s in inventory.deployed() if s.git_branch == branch]
    if len(owners) > 1:
        raise UsageError(f"stacks {', '.join(owners)} all belong to git branch {branch!r}; name one")
    return owners[0] if owners else None


def existing_sandbox(backend: StackBackend, stack: str) -> None:
    """Checks that ``stack`` exists and is not a tier stack.

    Raises:
        UsageError: no such stack, or it is a tier stack (never touched).
    """
    if not backend.exists(stack):
        raise UsageError(f"no stack named {stack!r}; `pipeline-sandbox list` shows the sandbox stacks")
    if is_tier(backend.outputs(stack), backend.config(stack)):
        raise UsageError(f"{stack!r} is a tier stack; pipeline-sandbox only manages sandbox stacks")


def target_stack(
    backend: StackBackend, project_dir: Path, stack: str | None, branch: str | None, parallel: int
) -> str:
    """The named sandbox stack, else the sandbox stack of ``branch`` (default: the checkout's).

    Raises:
        UsageError: no such sandbox.
    """
    if stack is None:
        git_branch = current_branch(project_dir, branch)
        stack = find_branch_stack(backend, git_branch, parallel)
        if stack is None:
            raise UsageError(
                f"git branch {git_branch!r} has no sandbox stack (looked for {stack_name_for(git_branch)!r} "
                "and for a stack whose gitBranch output is the branch); `pipeline-sandbox up` makes one"
            )
    existing_sandbox(backend, stack)
    return stack
