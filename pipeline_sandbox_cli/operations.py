"""What the command does to one sandbox stack: destroy it, or pause/resume it, and how that ended.

Every destroy runs ``pulumi destroy`` through the backend, so the sandbox's delete guard and the
branch's safe delete hold: uncommitted changes refuse the destroy before anything is deleted, and
committed work is archived. The command never discards or forgets anything: both destroy-time opt-ins
are forced off for every engine run it starts, whatever the caller's environment says; dropping
changes stays a ``pulumi destroy`` the user runs on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.gitinfo import read_checkout
from components.lakefs.opt_in import DISCARD_UNCOMMITTED_ENV, FORGET_UNREACHABLE_ENV
from pipeline_sandbox_cli.backend import BackendError, OnOutput, StackBackend

NO_OPT_INS = {DISCARD_UNCOMMITTED_ENV: "0", FORGET_UNREACHABLE_ENV: "0"}
"""Environment of every engine run the command starts: nothing discarded, nothing forgotten."""
REFUSAL_MARKERS = ("refusing to delete lakeFS branch", "uncommitted change")
"""Text of the delete guard's refusal (``components.lakefs.branch``), as the engine prints it."""
PAUSED_KEY = "sandbox:paused"


@dataclass(frozen=True)
class Outcome:
    """How one operation on one stack (or orphan branch) ended."""

    target: str
    status: str
    """``destroyed``, ``removed``, ``paused``, ``resumed``, ``refused`` or ``failed``."""
    message: str = ""
    resolve: tuple[str, ...] = field(default=())
    """Commands that resolve a refusal, for the user to choose from."""

    @property
    def ok(self) -> bool:
        return self.status not in ("refused", "failed")

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message, "resolve": list(self.resolve)}


def is_refusal(error: BackendError) -> bool:
    """Whether a destroy failed because the safe delete refused (uncommitted changes)."""
    return any(marker in error.detail for marker in REFUSAL_MARKERS)


def refusal_resolutions(stack: str, lakefs_branch: str | None, repository: str | None) -> tuple[str, ...]:
    """The ways out of a refused destroy; dropping the changes is the user's own command."""
    where = f"lakefs://{repository or '<repository>'}/{lakefs_branch or '<lakefsBranch>'}"
    return (
        f'keep them: lakectl commit {where} -m "<message>", then run the command again',
        f"drop them (your choice, not undoable): {DISCARD_UNCOMMITTED_ENV}=1 pulumi destroy --stack {stack}",
    )


def destroy(
    backend: StackBackend,
    stack: str,
    on_output: OnOutput,
    *,
    lakefs_branch: str | None = None,
    repository: str | None = None,
) -> Outcome:
    """Destroys one sandbox stack through the engine; a refusal is reported, never overridden."""
    try:
        backend.destroy(stack, on_output, NO_OPT_INS)
    except BackendError as exc:
        if is_refusal(exc):
            return Outcome(stack, "refused", str(exc), refusal_resolutions(stack, lakefs_branch, repository))
        return Outcome(stack, "failed", str(exc))
    return Outcome(stack, "destroyed")


def remove(backend: StackBackend, stack: str) -> Outcome:
    """Removes an emptied stack (its history and config go with it)."""
    try:
        backend.remove_stack(stack)
    except BackendError as exc:
        return Outcome(stack, "failed", f"destroyed, but removing the stack failed: {exc}")
    return Outcome(stack, "removed")


def branch_mismatch(
    backend: StackBackend, stack: str, git_branch: str | None, project_dir: Path
) -> str | None:
    """Why running the program here would not redeploy ``stack``'s own branch, or None.

    Pausing and resuming run the program (``pulumi up``), which takes the git branch from
    ``sandbox:branch`` or else from the checkout; on another branch the sandbox's lease refuses. This
    says so before anything is touched.
    """
    config = backend.config(stack)
    branch_here = config.get("sandbox:branch")
    if branch_here is None:
        branch_here = read_checkout(project_dir / config.get("sandbox:gitDir", ".")).branch
    if git_branch is None or branch_here == git_branch:
        return None
    return (
        f"stack {stack!r} is the sandbox of git branch {git_branch!r}, but running the program here "
        f"would deploy {branch_here or 'no branch (detached HEAD)'!r}: pausing runs `pulumi up`. Run "
        f"it from a checkout of {git_branch!r} with the stack's config, or set it with "
        f"`pulumi config set sandbox:branch {git_branch} --stack {stack}`"
    )


def set_paused(
    backend: StackBackend,
    stack: str,
    paused: bool,
    on_output: OnOutput,
    *,
    git_branch: str | None,
    project_dir: Path,
) -> Outcome:
    """Sets ``sandbox:paused`` and runs ``pulumi up``; refuses first if the program would deploy
    another branch."""
    done = "paused" if paused else "resumed"
    try:
        mismatch = branch_mismatch(backend, stack, git_branch, project_dir)
        if mismatch:
            return Outcome(stack, "refused", mismatch)
        backend.set_config(stack, PAUSED_KEY, "true" if paused else "false")
        backend.up(stack, on_output)
    except BackendError as exc:
        return Outcome(stack, "failed", str(exc))
    return Outcome(stack, done)
