"""What the command does to one sandbox stack: destroy it, or pause/resume it, and how that ended.

Every destroy runs ``pulumi destroy`` through the backend, so the sandbox's delete guard and the
branch's safe delete hold: uncommitted changes refuse the destroy before anything is deleted, and
committed work is archived. Both destroy-time environment opt-ins are forced off for every engine run
the command starts, whatever the caller's environment says. A stack's own
``sandbox:discardUncommitted: true`` still makes its destroy drop uncommitted changes, so gc refuses
such a stack while it has any (:func:`discard_refusal`); dropping changes stays a ``pulumi destroy``
the user runs on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
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
IMAGE_KEY = "sandbox:image"
DISCARD_KEY = "sandbox:discardUncommitted"
DISCARD_OUTPUT = "discardUncommitted"


@dataclass(frozen=True)
class Outcome:
    """How one operation on one stack (or orphan branch) ended."""

    target: str
    status: str
    """``destroyed``, ``removed``, ``paused``, ``resumed``, ``kept`` (an orphan left alone), ``refused``
    or ``failed``."""
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


def discard_refusal(
    backend: StackBackend,
    stack: str,
    deployed: Mapping[str, Any],
    uncommitted: int | None,
    *,
    lakefs_branch: str | None,
    repository: str | None,
) -> Outcome | None:
    """A refusal when destroying ``stack`` might drop uncommitted changes by the stack's own opt-in.

    The command forces the environment opt-ins off, but ``sandbox:discardUncommitted: true`` in the
    stack's config or state (its ``discardUncommitted`` output) makes the branch's safe delete drop
    them. A stack that does not record the setting (deployed before that output) cannot be told apart,
    so it is treated the same way. ``uncommitted`` None means lakeFS could not be asked.
    """
    recorded = deployed.get(DISCARD_OUTPUT)
    in_config = backend.config(stack).get(DISCARD_KEY, "").strip().lower() == "true"
    if not (in_config or recorded is True or recorded is None) or uncommitted == 0:
        return None
    if in_config or recorded is True:
        why = f"stack {stack!r} sets {DISCARD_KEY}, so `pulumi destroy` would drop"
    else:
        why = (
            f"stack {stack!r} does not record whether it discards (no {DISCARD_OUTPUT} output: deployed "
            "before it existed), so `pulumi destroy` might drop"
        )
    what = (
        "any uncommitted changes (lakeFS could not be asked how many)"
        if uncommitted is None
        else f"its {uncommitted} uncommitted change(s)"
    )
    where = f"lakefs://{repository or '<repository>'}/{lakefs_branch or '<lakefsBranch>'}"
    return Outcome(
        stack,
        "refused",
        f"{why} {what} on {where}; gc never discards. Nothing was changed.",
        (
            f'keep them: lakectl commit {where} -m "<message>", then run gc again',
            f"drop them (your choice, not undoable): pulumi destroy --stack {stack}",
        ),
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


def redeploy_refusal(
    backend: StackBackend, stack: str, deployed: Mapping[str, Any], project_dir: Path, doing: str
) -> str | None:
    """Why running the program here would not redeploy what ``stack`` runs, or None.

    Pausing and resuming run the program (``pulumi up``). It takes the git branch from
    ``sandbox:branch`` or else from the checkout (on another branch the sandbox's lease refuses), and
    unless ``sandbox:image`` pins the image, the checkout's HEAD commit is the code image's tag: from a
    checkout at another commit it would deploy that commit's code. This says so before anything is
    touched; a sandbox that does not record its commit (``gitCommit``) is refused too, since nobody can
    tell.

    Args:
        deployed: The stack's outputs (its ``gitBranch`` and ``gitCommit``).
        doing: What the caller is doing, for the message (``pausing``, ``resuming``).
    """
    config = backend.config(stack)
    checkout = read_checkout(project_dir / config.get("sandbox:gitDir", "."))
    git_branch = deployed.get("gitBranch")
    branch_here = config.get("sandbox:branch", checkout.branch)
    if git_branch is not None and branch_here != git_branch:
        return (
            f"stack {stack!r} is the sandbox of git branch {git_branch!r}, but running the program here "
            f"would deploy {branch_here or 'no branch (detached HEAD)'!r}: {doing} runs `pulumi up`. Run "
            f"it from a checkout of {git_branch!r} with the stack's config, or set it with "
            f"`pulumi config set sandbox:branch {git_branch} --stack {stack}`"
        )
    if IMAGE_KEY in config:
        return None
    here = checkout.commit or "no commit (not a git checkout?)"
    pin = f"`pulumi config set {IMAGE_KEY} <repository>:<tag> --stack {stack}` pins the image to keep"
    deployed_commit = deployed.get("gitCommit")
    if not deployed_commit:
        return (
            f"stack {stack!r} does not record the git commit it was deployed at (no gitCommit output: "
            f"deployed before it existed), and without {IMAGE_KEY} {doing} runs `pulumi up`, which "
            f"deploys the code image of this checkout's HEAD ({here}), maybe other code. Either "
            f"{pin}, or deploy the commit you want on purpose with `pipeline-sandbox up --stack {stack}` "
            "from a checkout of it (that records gitCommit), then run this again"
        )
    if deployed_commit != checkout.commit:
        return (
            f"stack {stack!r} runs the code image of commit {deployed_commit}, but this checkout's HEAD "
            f"is {here}: {doing} runs `pulumi up`, which would deploy that commit's image instead. Run it "
            f"from a checkout at {deployed_commit} (`git checkout {deployed_commit}`), or {pin}, or deploy "
            f"the new commit on purpose with `pipeline-sandbox up --stack {stack}`"
        )
    return None


def set_paused(
    backend: StackBackend,
    stack: str,
    paused: bool,
    on_output: OnOutput,
    *,
    deployed: Mapping[str, Any],
    project_dir: Path,
) -> Outcome:
    """Sets ``sandbox:paused`` and runs ``pulumi up``; refuses first if the program would deploy
    another branch or another commit's code (see :func:`redeploy_refusal`)."""
    done = "paused" if paused else "resumed"
    try:
        refusal = redeploy_refusal(backend, stack, deployed, project_dir, "pausing" if paused else "resuming")
        if refusal:
            return Outcome(stack, "refused", refusal)
        backend.set_config(stack, PAUSED_KEY, "true" if paused else "false")
        backend.up(stack, on_output)
    except BackendError as exc:
        return Outcome(stack, "failed", str(exc))
    return Outcome(stack, done)
