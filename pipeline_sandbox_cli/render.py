"""How results look: aligned tables for people, JSON documents for scripts (one shape per command)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pipeline_sandbox_cli.backend import UpdateInfo
from pipeline_sandbox_cli.facts import LakeFSFacts
from pipeline_sandbox_cli.gc import GcItem
from pipeline_sandbox_cli.inventory import Inventory, Sandbox
from pipeline_sandbox_cli.lakefs_view import LakeFSAccess, OrphanBranch
from pipeline_sandbox_cli.operations import Outcome

NONE = "-"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, two spaces apart."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [list(headers), *rows]
    ]
    return "\n".join(lines)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else NONE


def state(sandbox: Sandbox) -> str:
    """``updating``, ``paused``, ``running``, or ``no outputs`` (nothing deployed, or not yet)."""
    if sandbox.summary.update_in_progress:
        return "updating"
    if not sandbox.deployed:
        return "no outputs"
    return "paused" if sandbox.paused else "running"


def update_json(update: UpdateInfo | None) -> dict[str, Any] | None:
    if update is None:
        return None
    return {
        "kind": update.kind,
        "result": update.result,
        "startTime": update.start_time.isoformat() if update.start_time else None,
        "endTime": update.end_time.isoformat() if update.end_time else None,
    }


def update_text(update: UpdateInfo | None) -> str:
    if update is None:
        return NONE
    return f"{update.kind} {update.result} {when(update.end_time or update.start_time)}"


def sandbox_json(sandbox: Sandbox, facts: LakeFSFacts, now: datetime, default_tier: str) -> dict[str, Any]:
    """One ``list --json`` row."""
    branch = facts.branches.get(sandbox.stack)
    return {
        "stack": sandbox.stack,
        "gitBranch": sandbox.git_branch,
        "owner": sandbox.text("owner"),
        "lakefsBranch": sandbox.lakefs_branch,
        "namespace": sandbox.text("namespace"),
        "tier": sandbox.tier(default_tier) if sandbox.deployed else None,
        "createdAt": sandbox.text("createdAt"),
        "expiresAt": sandbox.text("expiresAt"),
        "expired": sandbox.expired(now),
        "paused": sandbox.paused,
        "state": state(sandbox),
        "lastUpdate": update_json(sandbox.last_update),
        "lakefs": branch.to_json() if branch else None,
        "lakefsError": facts.errors.get(sandbox.stack),
    }


def list_json(inventory: Inventory, facts: LakeFSFacts, now: datetime, default_tier: str) -> dict[str, Any]:
    return {
        "sandboxes": [sandbox_json(s, facts, now, default_tier) for s in inventory.sandboxes],
        "unreadable": [{"stack": k, "error": v} for k, v in sorted(inventory.unreadable.items())],
        "tierStacksSkipped": len(inventory.tier_stacks),
    }


def list_table(inventory: Inventory, facts: LakeFSFacts, now: datetime) -> str:
    headers = (
        "STACK", "GIT BRANCH", "OWNER", "LAKEFS BRANCH", "CREATED", "EXPIRES", "STATE", "LAST UPDATE",
        "UNCOMMITTED", "COMMITS",
    )  # fmt: skip
    rows = []
    for sandbox in inventory.sandboxes:
        branch = facts.branches.get(sandbox.stack)
        if branch is None:
            uncommitted = commits = "?" if sandbox.deployed else NONE
        elif branch.head is None:
            uncommitted = commits = "gone"
        else:
            uncommitted, commits = str(branch.uncommitted), str(branch.commits or "?")
        expires = when(sandbox.expires_at) + (" EXPIRED" if sandbox.expired(now) else "")
        rows.append(
            [
                sandbox.stack,
                sandbox.git_branch or NONE,
                sandbox.text("owner") or NONE,
                sandbox.lakefs_branch or NONE,
                when(sandbox.created_at),
                expires,
                state(sandbox),
                update_text(sandbox.last_update),
                uncommitted,
                commits,
            ]
        )
    if not rows:
        return "no sandbox stacks"
    return table(headers, rows)


def outcome_text(outcome: Outcome) -> str:
    lines = [f"{outcome.target}: {outcome.status}" + (f": {outcome.message}" if outcome.message else "")]
    if outcome.resolve:
        lines.append("to resolve, choose one:")
        lines.extend(f"  - {way}" for way in outcome.resolve)
    return "\n".join(lines)


def gc_text(
    items: Sequence[GcItem],
    orphans: Sequence[tuple[LakeFSAccess, OrphanBranch]],
    outcomes: dict[str, Outcome],
    *,
    dry_run: bool,
    now: datetime,
) -> str:
    """The plan (dry run) or what happened, sandbox by sandbox, then the orphan branches."""
    verb = {"destroy": "would destroy", "pause": "would pause", "keep": "keep"} if dry_run else {}
    rows = []
    for item in items:
        outcome = item.outcome
        result = verb.get(item.action, item.action) if outcome is None else outcome.status
        rows.append([item.sandbox.stack, item.sandbox.git_branch or NONE, result, "; ".join(item.reasons)])
    parts = [table(("STACK", "GIT BRANCH", "RESULT", "WHY"), rows) if rows else "no deployed sandboxes"]
    for item in items:
        if item.outcome and not item.outcome.ok:
            parts.append(outcome_text(item.outcome))
    if orphans:
        orphan_rows = []
        for access, orphan in orphans:
            facts = orphan.facts
            age = f"{(now - facts.head_date).days}d" if facts.head_date else NONE
            done = outcomes.get(orphan.name)
            result = done.status if done else ("would reclaim (--orphans)" if dry_run else "left alone")
            if done and done.status == "kept":
                result = f"kept: {done.message}"
            orphan_rows.append(
                [f"{access.repository}/{orphan.name}", (facts.head or "gone")[:12], str(facts.uncommitted),
                 age, result]
            )  # fmt: skip
        parts.append("lakeFS branches no sandbox stack owns:")
        parts.append(table(("BRANCH", "HEAD", "UNCOMMITTED", "AGE", "RESULT"), orphan_rows))
        parts.extend(outcome_text(o) for o in outcomes.values() if not o.ok)
    if dry_run:
        parts.append("dry run: nothing was changed; run again with --yes to do it")
    return "\n".join(parts)
