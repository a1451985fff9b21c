"""Which stacks are sandboxes, and what each one's outputs and latest update say.

A stack is a tier stack when its outputs carry ``environment`` or its config sets
``tier:environment`` (the program's own rule, see ``components.config.loader``); tier stacks are
never listed or touched. A stack with the sandbox outputs is a deployed sandbox; a stack with no
outputs and no tier config is an empty one (never deployed, or destroyed). Stacks are read
concurrently, a bounded number at a time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline_sandbox_cli.backend import BackendError, StackBackend, StackSummary, UpdateInfo

TIER_CONFIG_KEY = "tier:environment"
TIER_OUTPUT = "environment"
SANDBOX_OUTPUT = "lakefsBranch"
DEFAULT_PARALLEL = 8
MAX_PARALLEL = 32

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Sandbox:
    """One sandbox stack: its outputs (the sandbox contract) and its latest update."""

    stack: str
    outputs: Mapping[str, Any]
    summary: StackSummary
    last_update: UpdateInfo | None = None

    @property
    def deployed(self) -> bool:
        """Whether the stack holds a sandbox (its outputs name a lakeFS branch)."""
        return bool(self.outputs.get(SANDBOX_OUTPUT))

    def text(self, name: str) -> str | None:
        value = self.outputs.get(name)
        return str(value) if value not in (None, "") else None

    @property
    def git_branch(self) -> str | None:
        return self.text("gitBranch")

    @property
    def lakefs_branch(self) -> str | None:
        return self.text(SANDBOX_OUTPUT)

    @property
    def git_branch_pushed(self) -> bool | None:
        """Whether the git branch was on a remote when deployed; None for sandboxes deployed before
        the ``gitBranchPushed`` output existed."""
        value = self.outputs.get("gitBranchPushed")
        return value if isinstance(value, bool) else None

    @property
    def paused(self) -> bool:
        return self.outputs.get("paused") is True

    @property
    def expires_at(self) -> datetime | None:
        return _timestamp(self.outputs.get("expiresAt"))

    @property
    def created_at(self) -> datetime | None:
        return _timestamp(self.outputs.get("createdAt"))

    def tier(self, default: str) -> str:
        """The tier stack the sandbox snapshots (its ``tier`` output; older sandboxes lack it)."""
        return self.text("tier") or default

    def expired(self, now: datetime) -> bool:
        expires = self.expires_at
        return expires is not None and expires <= now


@dataclass(frozen=True)
class Inventory:
    """Every stack of the project, sorted into sandboxes, tier stacks and unreadable ones."""

    sandboxes: list[Sandbox]
    tier_stacks: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    """Stack -> why it could not be read; such stacks are never touched."""

    def deployed(self) -> list[Sandbox]:
        return [s for s in self.sandboxes if s.deployed]

    def find(self, stack: str) -> Sandbox | None:
        return next((s for s in self.sandboxes if s.stack == stack), None)

    @property
    def busy(self) -> list[str]:
        """Stacks with an update running now (their outputs may be about to change)."""
        return [s.stack for s in self.sandboxes if s.summary.update_in_progress]


def is_tier(outputs: Mapping[str, Any], config: Mapping[str, str]) -> bool:
    """The program's rule: ``tier:environment`` makes a tier stack; its outputs say so too."""
    return TIER_OUTPUT in outputs or TIER_CONFIG_KEY in config


def read_inventory(
    backend: StackBackend,
    *,
    parallel: int = DEFAULT_PARALLEL,
    progress: Progress | None = None,
    stacks: Iterable[StackSummary] | None = None,
) -> Inventory:
    """Reads every stack (or ``stacks``) with at most ``parallel`` reads at a time."""
    summaries = list(backend.list_stacks() if stacks is None else stacks)
    done = itertools.count(1)  # next() on a count is atomic under the GIL

    def read(summary: StackSummary) -> tuple[str, Sandbox | str | None]:
        try:
            result: Sandbox | str | None = _read_one(backend, summary)
        except BackendError as exc:
            result = f"error: {exc}"
        if progress is not None:
            progress(f"read {next(done)}/{len(summaries)} stacks")
        return summary.name, result

    with ThreadPoolExecutor(max_workers=max(1, min(parallel, MAX_PARALLEL))) as pool:
        results = list(pool.map(read, summaries))
    sandboxes, tiers, unreadable = [], [], {}
    for name, result in results:
        if isinstance(result, Sandbox):
            sandboxes.append(result)
        elif result is None:
            tiers.append(name)
        else:
            unreadable[name] = result.removeprefix("error: ")
    return Inventory(sorted(sandboxes, key=lambda s: s.stack), sorted(tiers), unreadable)


def _read_one(backend: StackBackend, summary: StackSummary) -> Sandbox | None:
    """The stack as a Sandbox, or None for a tier stack."""
    outputs = backend.outputs(summary.name)
    if TIER_OUTPUT in outputs:
        return None
    # Without the sandbox outputs only the config can tell a never-deployed tier stack from a
    # sandbox stack with nothing deployed (yet, or any more).
    if not outputs.get(SANDBOX_OUTPUT) and is_tier(outputs, backend.config(summary.name)):
        return None
    return Sandbox(summary.name, outputs, summary, backend.last_update(summary.name))


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
