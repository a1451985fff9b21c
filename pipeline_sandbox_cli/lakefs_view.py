"""What lakeFS says about sandbox branches: uncommitted changes, commits since the snapshot, the diff
against ``sourceCommit``, and ``sbx-*`` branches that no sandbox stack owns any more.

lakeFS is reached as the tier publishes it: the tier stack's ``lakefsEndpoint``, ``lakefsRepository``
and generated credentials (read through the backend, kept out of every message). Reclaiming an orphan
branch goes through the Branch provider's own safe delete (archive tag, uncommitted changes refuse),
with both destroy-time opt-ins off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from components.lakefs.branch import safe_delete
from components.lakefs.client import ConnectionSettings, Session
from components.lakefs.errors import LakeFSError
from components.naming import PREFIX
from pipeline_sandbox_cli.backend import BackendError, StackBackend

LIMIT = 1000
"""Most changes or commits counted per branch; beyond it a count reads "1000+"."""
_TIER_OUTPUTS = ("lakefsEndpoint", "lakefsRepository", "lakefsAccessKeyId", "lakefsSecretAccessKey")


class LakeFSUnavailableError(Exception):
    """lakeFS facts cannot be read (tier outputs missing, lakeFS not answering); says why."""


@dataclass(frozen=True)
class LakeFSAccess:
    """The tier's lakeFS, as its stack outputs publish it."""

    tier_stack: str
    endpoint: str
    repository: str
    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)

    def session(self) -> Session:
        settings = ConnectionSettings(self.endpoint, self.access_key_id, self.secret_access_key, 10.0, 1, 0.2)
        return Session(settings)


def lakefs_access(backend: StackBackend, tier_stack: str) -> LakeFSAccess:
    """Reads the tier stack's lakeFS outputs.

    Raises:
        LakeFSUnavailableError: the tier stack cannot be read or lacks an output.
    """
    try:
        outputs = backend.outputs(tier_stack)
    except BackendError as exc:
        raise LakeFSUnavailableError(f"cannot read tier stack {tier_stack!r}: {exc}") from None
    missing = [name for name in _TIER_OUTPUTS if not outputs.get(name)]
    if missing:
        raise LakeFSUnavailableError(
            f"tier stack {tier_stack!r} has no {', '.join(missing)} output(s); is it deployed?"
        )
    return LakeFSAccess(
        tier_stack,
        str(outputs["lakefsEndpoint"]),
        str(outputs["lakefsRepository"]),
        str(outputs["lakefsAccessKeyId"]),
        str(outputs["lakefsSecretAccessKey"]),
    )


@dataclass(frozen=True)
class Count:
    """A count that stops at :data:`LIMIT`."""

    value: int
    capped: bool = False

    def __str__(self) -> str:
        return f"{self.value}+" if self.capped else str(self.value)

    def to_json(self) -> dict[str, Any]:
        return {"count": self.value, "capped": self.capped}


@dataclass(frozen=True)
class BranchFacts:
    """A sandbox branch as lakeFS sees it now; ``head`` None means lakeFS says it is gone."""

    head: str | None
    uncommitted: Count = Count(0)
    commits: Count | None = None
    """Commits on the branch since its source commit; None when the source commit is unknown."""
    head_date: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "head": self.head,
            "exists": self.head is not None,
            "uncommitted": self.uncommitted.to_json(),
            "commits": self.commits.to_json() if self.commits else None,
            "headDate": self.head_date.isoformat() if self.head_date else None,
        }


def branch_facts(s: Session, repo: str, branch: str, source_commit: str | None) -> BranchFacts:
    """Head, uncommitted changes and commits since ``source_commit`` of one branch."""
    head = s.lookup_branch(repo, branch).head
    if head is None:
        return BranchFacts(None)
    pending = s.uncommitted(repo, branch, limit=LIMIT, sample=0)
    commits, head_date = _commits_since(s, repo, branch, source_commit)
    return BranchFacts(head, Count(pending.count, pending.capped), commits, head_date)


def _commits_since(
    s: Session, repo: str, branch: str, source_commit: str | None
) -> tuple[Count | None, datetime | None]:
    where = s.where("reading the log of branch", repo, branch)
    count, after, head_date = 0, "", None
    while True:
        page = s.call(where, s.refs.log_commits, repo, branch, after=after, amount=100, idempotent=True)
        for commit in page.results:
            head_date = head_date or datetime.fromtimestamp(commit.creation_date, UTC)
            if commit.id == source_commit:
                return Count(count), head_date
            count += 1
            if count >= LIMIT:
                return (Count(count, True) if source_commit else None), head_date
        if not page.pagination.has_more:
            # The source commit is not on this branch's history: unknown, not zero.
            return None, head_date
        after = page.pagination.next_offset


@dataclass(frozen=True)
class Changes:
    """Paths added, changed and removed (each capped with the whole at :data:`LIMIT`)."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    capped: bool = False
    sample: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return self.added + self.changed + self.removed

    def __str__(self) -> str:
        more = "+" if self.capped else ""
        return f"{self.added} added, {self.changed} changed, {self.removed} removed{more}"

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "capped": self.capped,
            "sample": list(self.sample),
        }


@dataclass(frozen=True)
class DiffSummary:
    """What a sandbox did to its snapshot: committed since ``sourceCommit``, and not yet committed."""

    committed: Changes
    uncommitted: Changes

    def to_json(self) -> dict[str, Any]:
        return {"committed": self.committed.to_json(), "uncommitted": self.uncommitted.to_json()}


def diff_summary(s: Session, repo: str, branch: str, source_commit: str) -> DiffSummary:
    """Paths committed on ``branch`` since ``source_commit`` and its uncommitted changes."""
    comparing = s.where("comparing the branch with its source commit", repo, branch)
    listing = s.where("listing uncommitted changes of branch", repo, branch)
    committed = _changes(_pages(s, comparing, s.refs.diff_refs, repo, source_commit, branch, type="two_dot"))
    uncommitted = _changes(_pages(s, listing, s.branches.diff_branch, repo, branch))
    return DiffSummary(committed, uncommitted)


def _pages(s: Session, where: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[str], Any]:
    """One page of a paginated listing per call, starting after the given offset."""
    return lambda after: s.call(where, fn, *args, after=after, amount=LIMIT, idempotent=True, **kwargs)


def _changes(fetch: Callable[[str], Any], sample: int = 5) -> Changes:
    counts: dict[str, int] = {"added": 0, "changed": 0, "removed": 0}
    paths: list[str] = []
    after = ""
    while True:
        page = fetch(after)
        for diff in page.results:
            counts[diff.type if diff.type in counts else "changed"] += 1
            if len(paths) < sample:
                paths.append(diff.path)
        if not page.pagination.has_more:
            return Changes(counts["added"], counts["changed"], counts["removed"], False, tuple(paths))
        if sum(counts.values()) >= LIMIT:
            return Changes(counts["added"], counts["changed"], counts["removed"], True, tuple(paths))
        after = page.pagination.next_offset


@dataclass(frozen=True)
class OrphanBranch:
    """A sandbox-named lakeFS branch that no sandbox stack's ``lakefsBranch`` names."""

    name: str
    facts: BranchFacts

    def to_json(self) -> dict[str, Any]:
        return {"branch": self.name, **self.facts.to_json()}


def orphan_branches(s: Session, repo: str, owned: set[str]) -> list[OrphanBranch]:
    """``sbx-*`` branches of ``repo`` not in ``owned``, with head, uncommitted count and age."""
    where = s.where("listing branches", repo)
    names: list[str] = []
    after = ""
    while True:
        page = s.call(
            where, s.branches.list_branches, repo, prefix=PREFIX, after=after, amount=LIMIT, idempotent=True
        )
        names.extend(ref.id for ref in page.results if ref.id.startswith(PREFIX))
        if not page.pagination.has_more:
            break
        after = page.pagination.next_offset
    return [OrphanBranch(name, branch_facts(s, repo, name, None)) for name in names if name not in owned]


def reclaim_orphan(access: LakeFSAccess, branch: str) -> None:
    """Archives and deletes an orphan branch through the Branch provider's safe delete.

    Raises:
        LakeFSError: refused (uncommitted changes: ``UncommittedChangesError``) or lakeFS failed.
    """
    props: Mapping[str, Any] = {"archive": True, "discardUncommitted": False}
    with access.session() as s:
        safe_delete(s, access.repository, branch, dict(props), forget=False, discard=False)


__all__ = [
    "BranchFacts",
    "Changes",
    "Count",
    "DiffSummary",
    "LakeFSAccess",
    "LakeFSError",
    "LakeFSUnavailableError",
    "OrphanBranch",
    "branch_facts",
    "diff_summary",
    "lakefs_access",
    "orphan_branches",
    "reclaim_orphan",
]
