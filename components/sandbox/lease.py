"""The sandbox lease: who owns a sandbox stack, which git branch it belongs to, and when it expires.

A dynamic resource, because only the engine's state can remember across ``pulumi up`` runs when the
sandbox was first created (so ``expiresAt`` stays put, like Pulumi's TTL stacks) and which branch
created it (so a checkout of another branch cannot silently take the stack over).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ResourceProvider,
    UpdateResult,
)

_TRACKED = ("gitBranch", "ttlSeconds", "owner")


def expiry(created_at: str, ttl_seconds: int) -> str:
    """ISO 8601 expiry (UTC offset included) of a lease created at ``created_at``."""
    return (datetime.fromisoformat(created_at) + timedelta(seconds=ttl_seconds)).isoformat()


class SandboxLeaseProvider(ResourceProvider):
    """Holds no state or client, so the engine can pickle it freely."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        olds = _olds or {}
        owner_branch = olds.get("gitBranch")
        failures = []
        if owner_branch and news.get("gitBranch") != owner_branch and not news.get("branchIsExplicit"):
            failures.append(
                CheckFailure(
                    "gitBranch",
                    f"this stack is the sandbox of git branch {owner_branch!r}, but the checkout is on "
                    f"{news.get('gitBranch')!r}. Check out {owner_branch!r}, use a stack of your own "
                    "(`pulumi stack init`), or move this sandbox on purpose with "
                    "`pulumi config set sandbox:branch <branch>`.",
                )
            )
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        created_at = datetime.now(UTC).replace(microsecond=0).isoformat()
        outs = {**props, "createdAt": created_at, "expiresAt": expiry(created_at, int(props["ttlSeconds"]))}
        return CreateResult(id_=str(uuid.uuid4()), outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = [key for key in _TRACKED if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changes), replaces=[], stables=["createdAt"])

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # The creation time is the lease's anchor: a new ttl moves the expiry, never the start.
        created_at = olds["createdAt"]
        return UpdateResult(
            outs={**news, "createdAt": created_at, "expiresAt": expiry(created_at, int(news["ttlSeconds"]))}
        )


class SandboxLease(pulumi.dynamic.Resource, module="sandbox", name="Lease"):
    """Records the owning branch and creation time of a sandbox; see the module docstring."""

    # Dynamic resources expose engine property names as attributes, hence camelCase.
    createdAt: pulumi.Output[str]
    """When the sandbox was first created (ISO 8601, UTC)."""
    expiresAt: pulumi.Output[str]
    """``createdAt`` + ttl (ISO 8601, UTC)."""

    def __init__(
        self,
        name: str,
        *,
        git_branch: str,
        branch_is_explicit: bool,
        owner: str,
        ttl: timedelta,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "gitBranch": git_branch,
            "branchIsExplicit": branch_is_explicit,
            "owner": owner,
            "ttlSeconds": int(ttl.total_seconds()),
            "createdAt": None,
            "expiresAt": None,
        }
        super().__init__(SandboxLeaseProvider(), name, props, opts)
