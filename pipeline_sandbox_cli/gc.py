"""``gc``: which sandboxes to reclaim and why, and reclaiming them.

A sandbox is reclaimed when it expired (``expiresAt`` passed) or its git branch is gone from the
remote. With ``pause_idle``, an expired sandbox whose branch still exists is paused instead. A stack
whose update is running is left alone, and tier stacks never reach this module. Orphan lakeFS
branches (``sbx-*`` that no stack names) are reclaimed only when every stack could be read and none
is updating: otherwise one of them might own the branch.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from components.config.durations import format_duration
from components.lakefs.errors import LakeFSError, UncommittedChangesError
from pipeline_sandbox_cli import operations
from pipeline_sandbox_cli.backend import BackendError, StackBackend
from pipeline_sandbox_cli.inventory import Inventory, Sandbox
from pipeline_sandbox_cli.lakefs_view import LakeFSAccess, OrphanBranch, reclaim_orphan
from pipeline_sandbox_cli.operations import Outcome

Action = Literal["destroy", "pause", "keep"]
TAIL_LINES = 20


@dataclass(frozen=True)
class GcItem:
    """One sandbox's verdict: what gc does to it and why."""

    sandbox: Sandbox
    action: Action
    reasons: tuple[str, ...]
    outcome: Outcome | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.sandbox.stack,
            "gitBranch": self.sandbox.git_branch,
            "lakefsBranch": self.sandbox.lakefs_branch,
            "action": self.action,
            "reasons": list(self.reasons),
            "outcome": self.outcome.to_json() if self.outcome else None,
        }


def plan(
    inventory: Inventory, now: datetime, remote_heads: set[str] | None, *, pause_idle: bool, remote: str
) -> list[GcItem]:
    """What gc would do to each deployed sandbox; ``remote_heads`` None skips the branch check."""
    items = []
    for sandbox in inventory.deployed():
        reasons = []
        if sandbox.expired(now):
            reasons.append(f"expired at {sandbox.outputs.get('expiresAt')}")
        branch_gone, branch_note = _branch_check(sandbox, remote_heads, remote)
        if branch_gone:
            reasons.append(str(branch_note))
        # A branch missing from the remote that does not count as gone is still said, so the user
        # sees why the sandbox is kept (or reclaimed only for its expiry).
        kept_note = None if branch_gone else branch_note
        items.append(_verdict(sandbox, reasons, kept_note, branch_gone=branch_gone, pause_idle=pause_idle))
    return items


def _branch_check(sandbox: Sandbox, remote_heads: set[str] | None, remote: str) -> tuple[bool, str | None]:
    """Whether the sandbox's git branch is gone, and why (or why a branch missing from the remote
    does not count); no note when the branch is there or the remote was not asked.

    Only a branch known to be on a remote at deploy time (``gitBranchPushed``) can be gone: a branch
    never pushed is a legitimate local-only sandbox, and a sandbox deployed before that output existed
    cannot tell, so only expiry reclaims those.
    """
    branch = sandbox.git_branch
    if remote_heads is None or branch in remote_heads:
        return False, None
    pushed = sandbox.git_branch_pushed
    if pushed:
        return True, f"git branch {branch!r} is gone from {remote}"
    if pushed is False:
        return False, f"git branch {branch!r} is not on {remote}, nor was it when deployed (local-only)"
    return False, (
        f"git branch {branch!r} is not on {remote}, but the sandbox predates the gitBranchPushed output, "
        "so only expiry reclaims it (`pipeline-sandbox up` records it)"
    )


def _verdict(
    sandbox: Sandbox, reasons: list[str], note: str | None, *, branch_gone: bool, pause_idle: bool
) -> GcItem:
    if not reasons:
        return GcItem(sandbox, "keep", ("not expired", note) if note else ("not expired, branch exists",))
    if note:
        reasons = [*reasons, note]
    if sandbox.summary.update_in_progress:
        return GcItem(sandbox, "keep", (*reasons, "left alone: an update is running"))
    if pause_idle and not branch_gone:
        if sandbox.paused:
            return GcItem(sandbox, "keep", (*reasons, "already paused"))
        return GcItem(sandbox, "pause", (*reasons, "paused instead (--pause-idle; its branch is not gone)"))
    return GcItem(sandbox, "destroy", tuple(reasons))


@dataclass
class Runner:
    """Carries out a plan: bounded parallelism, progress on ``progress``, engine output kept per stack.

    Args:
        backend: Where the stacks are.
        project_dir: The project checkout (pausing runs the program from there).
        parallel: Most engine runs at once.
        progress: Receives one line per step (stderr).
        stream: Also pass every engine line to ``progress``, prefixed with its stack.
        repositories: Sandbox stack -> its lakeFS repository, for the commands that resolve a refusal.
        uncommitted: Sandbox stack -> its lakeFS branch's uncommitted changes (absent: unknown).
    """

    backend: StackBackend
    project_dir: Path
    parallel: int
    progress: Callable[[str], None]
    stream: bool = False
    repositories: dict[str, str] = field(default_factory=dict)
    uncommitted: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, items: list[GcItem], *, remove_stacks: bool) -> list[GcItem]:
        work = [item for item in items if item.action != "keep"]
        counter = iter(range(1, len(work) + 1))

        def one(item: GcItem) -> GcItem:
            with self._lock:
                number = next(counter)
            stack = item.sandbox.stack
            self._say(f"[{number}/{len(work)}] {stack}: {item.action} ({'; '.join(item.reasons)})")
            started, tail = time.monotonic(), collections.deque[str](maxlen=TAIL_LINES)
            outcome = self._apply(item, self._collector(stack, tail), remove_stacks)
            took = time.monotonic() - started
            self._say(f"[{number}/{len(work)}] {stack}: {outcome.status} in {took:.1f}s")
            if not outcome.ok and tail and outcome.status == "failed":
                self._say("\n".join(f"  {stack} | {line}" for line in tail))
            return GcItem(item.sandbox, item.action, item.reasons, outcome)

        with ThreadPoolExecutor(max_workers=max(1, self.parallel)) as pool:
            done = {id(item): result for item, result in zip(work, pool.map(one, work), strict=True)}
        return [done.get(id(item), item) for item in items]

    def _apply(self, item: GcItem, on_output: Callable[[str], None], remove_stacks: bool) -> Outcome:
        sandbox = item.sandbox
        if item.action == "pause":
            return operations.set_paused(
                self.backend,
                sandbox.stack,
                True,
                on_output,
                deployed=sandbox.outputs,
                project_dir=self.project_dir,
            )
        where = {"lakefs_branch": sandbox.lakefs_branch, "repository": self.repositories.get(sandbox.stack)}
        try:
            refusal = operations.discard_refusal(
                self.backend, sandbox.stack, sandbox.outputs, self.uncommitted.get(sandbox.stack), **where
            )
        except BackendError as exc:
            return Outcome(sandbox.stack, "failed", str(exc))
        if refusal is not None:
            return refusal
        outcome = operations.destroy(self.backend, sandbox.stack, on_output, **where)
        if outcome.status == "destroyed" and remove_stacks:
            return operations.remove(self.backend, sandbox.stack)
        return outcome

    def _collector(self, stack: str, tail: collections.deque[str]) -> Callable[[str], None]:
        def collect(line: str) -> None:
            text = line.rstrip("\n")
            tail.append(text)
            if self.stream:
                self._say(f"  {stack} | {text}")

        return collect

    def _say(self, line: str) -> None:
        with self._lock:
            self.progress(line)


def orphan_hold(orphan: OrphanBranch, now: datetime, min_age: timedelta) -> str | None:
    """Why an orphan branch is left alone for now, or None when it may be reclaimed.

    A branch younger than ``min_age`` (by its head commit) may belong to a sandbox whose first
    ``pulumi up`` started after the stacks were read; one of unknown age might too.
    """
    head_date = orphan.facts.head_date
    if orphan.facts.head is None:
        return None
    if head_date is None:
        return "its age is unknown (no head commit date); left alone"
    if now - head_date < min_age:
        return f"younger than {format_duration(min_age)} (--orphan-min-age); a new sandbox may own it"
    return None


def reclaim_orphans(
    orphans: list[tuple[LakeFSAccess, OrphanBranch]], progress: Callable[[str], None]
) -> list[Outcome]:
    """Archives and deletes each orphan branch through the safe delete; one at a time."""
    outcomes = []
    for number, (access, orphan) in enumerate(orphans, start=1):
        progress(f"[{number}/{len(orphans)}] lakeFS branch {orphan.name}: reclaiming (archive, then delete)")
        try:
            reclaim_orphan(access, orphan.name)
        except UncommittedChangesError as exc:
            outcome = Outcome(
                orphan.name,
                "refused",
                str(exc),
                (
                    f'keep them: lakectl commit lakefs://{access.repository}/{orphan.name} -m "<message>", '
                    "then run gc again",
                    f"drop them (your choice, not undoable): lakectl branch reset "
                    f"lakefs://{access.repository}/{orphan.name}, then run gc again",
                ),
            )
        except LakeFSError as exc:
            outcome = Outcome(orphan.name, "failed", str(exc))
        else:
            outcome = Outcome(orphan.name, "destroyed", "archived, then deleted")
        progress(f"[{number}/{len(orphans)}] lakeFS branch {orphan.name}: {outcome.status}")
        outcomes.append(outcome)
    return outcomes
