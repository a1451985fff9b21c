"""lakeFS facts for many sandboxes at once: one tier access per tier, branches read concurrently.

lakeFS being unavailable never fails a listing: the affected rows say why, and the rest is shown.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from components.lakefs.client import Session
from components.lakefs.errors import LakeFSError
from pipeline_sandbox_cli.backend import StackBackend
from pipeline_sandbox_cli.inventory import Inventory, Sandbox
from pipeline_sandbox_cli.lakefs_view import (
    BranchFacts,
    LakeFSAccess,
    LakeFSUnavailableError,
    branch_facts,
    lakefs_access,
)


@dataclass
class LakeFSFacts:
    """What lakeFS said, per tier and per sandbox stack."""

    accesses: dict[str, LakeFSAccess] = field(default_factory=dict)
    """Tier stack -> how its lakeFS is reached."""
    unavailable: dict[str, str] = field(default_factory=dict)
    """Tier stack -> why its lakeFS could not be used."""
    branches: dict[str, BranchFacts] = field(default_factory=dict)
    """Sandbox stack -> its branch's facts."""
    errors: dict[str, str] = field(default_factory=dict)
    """Sandbox stack -> why its branch's facts are missing."""

    def repository_of(self, sandbox: Sandbox, default_tier: str) -> str | None:
        access = self.accesses.get(sandbox.tier(default_tier))
        return access.repository if access else None


def tier_accesses(backend: StackBackend, tiers: set[str], facts: LakeFSFacts) -> None:
    """Fills ``facts.accesses`` / ``facts.unavailable`` for each tier stack."""
    for tier in sorted(tiers):
        try:
            facts.accesses[tier] = lakefs_access(backend, tier)
        except LakeFSUnavailableError as exc:
            facts.unavailable[tier] = str(exc)


def gather(backend: StackBackend, inventory: Inventory, default_tier: str, parallel: int) -> LakeFSFacts:
    """Reads every deployed sandbox's branch facts, ``parallel`` at a time."""
    facts = LakeFSFacts()
    sandboxes = inventory.deployed()
    tier_accesses(backend, {s.tier(default_tier) for s in sandboxes}, facts)

    sessions: list[Session] = []
    local = threading.local()  # one client per worker thread and tier, reused across its sandboxes

    def session_for(tier: str, access: LakeFSAccess) -> Session:
        cache: dict[str, Session] = local.__dict__.setdefault("sessions", {})
        if tier not in cache:
            cache[tier] = access.session()
            sessions.append(cache[tier])
        return cache[tier]

    def read(sandbox: Sandbox) -> tuple[str, BranchFacts | str]:
        tier = sandbox.tier(default_tier)
        access = facts.accesses.get(tier)
        if access is None:
            return sandbox.stack, facts.unavailable.get(tier, "no lakeFS access")
        try:
            s = session_for(tier, access)
            return sandbox.stack, branch_facts(
                s, access.repository, str(sandbox.lakefs_branch), sandbox.text("sourceCommit")
            )
        except LakeFSError as exc:
            return sandbox.stack, str(exc)

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        for stack, result in pool.map(read, sandboxes):
            if isinstance(result, BranchFacts):
                facts.branches[stack] = result
            else:
                facts.errors[stack] = result
    for session in sessions:
        session.__exit__(None, None, None)
    return facts
