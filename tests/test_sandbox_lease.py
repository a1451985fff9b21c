"""The lease: a stable expiry across `pulumi up`s and the branch guard (the engine's check step)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import dill
import pytest

from components.sandbox.lease import SandboxLeaseProvider
from tests.sandbox_support import LEASE, sandbox_run

WEEK = 7 * 24 * 3600


def lease_inputs(branch: str = "feature/x", explicit: bool = False, ttl: int = WEEK) -> dict[str, Any]:
    return {"gitBranch": branch, "branchIsExplicit": explicit, "owner": "a@example.com", "ttlSeconds": ttl}


def test_first_creation_anchors_the_expiry() -> None:
    created = SandboxLeaseProvider().create(lease_inputs()).outs or {}
    start = datetime.fromisoformat(created["createdAt"])
    assert abs(start - datetime.now(UTC)) < timedelta(minutes=1)
    assert datetime.fromisoformat(created["expiresAt"]) == start + timedelta(days=7)


def test_later_updates_keep_the_creation_time_and_a_new_ttl_moves_only_the_expiry() -> None:
    provider = SandboxLeaseProvider()
    olds = {
        **lease_inputs(),
        "createdAt": "2026-01-01T00:00:00+00:00",
        "expiresAt": "2026-01-08T00:00:00+00:00",
    }
    diff = provider.diff("id", olds, lease_inputs(ttl=2 * WEEK))
    assert diff.changes and not diff.replaces
    updated = provider.update("id", olds, lease_inputs(ttl=2 * WEEK)).outs or {}
    assert updated["createdAt"] == "2026-01-01T00:00:00+00:00"
    assert updated["expiresAt"] == "2026-01-15T00:00:00+00:00"
    assert not provider.diff("id", olds, lease_inputs()).changes


def test_a_checkout_of_another_branch_cannot_take_the_stack_over() -> None:
    result = SandboxLeaseProvider().check(lease_inputs("feature/x"), lease_inputs("feature/y"))
    assert len(result.failures) == 1
    reason = result.failures[0].reason
    assert "sandbox of git branch 'feature/x'" in reason
    assert "checkout is on 'feature/y'" in reason
    assert "sandbox:branch" in reason


def test_an_explicit_branch_moves_the_stack_on_purpose() -> None:
    result = SandboxLeaseProvider().check(lease_inputs("feature/x"), lease_inputs("feature/y", explicit=True))
    assert result.failures == []


def test_same_branch_and_first_creation_pass_the_guard() -> None:
    provider = SandboxLeaseProvider()
    assert provider.check(lease_inputs(), lease_inputs()).failures == []
    assert provider.check({}, lease_inputs()).failures == []


def test_provider_survives_the_engines_pickling() -> None:
    import base64

    from pulumi.dynamic.dynamic import serialize_provider

    restored = dill.loads(base64.b64decode(serialize_provider(SandboxLeaseProvider())))
    assert restored.check({}, lease_inputs()).failures == []


def test_expires_at_is_the_first_creation_plus_ttl_on_later_runs() -> None:
    # A sandbox created long ago: the engine hands back the recorded creation time.
    def existing_lease(args: Any) -> dict[str, Any]:
        olds = {**args.inputs, "createdAt": "2026-03-01T10:00:00+00:00"}
        return dict(SandboxLeaseProvider().update("id", olds, dict(args.inputs)).outs or {})

    run = sandbox_run(
        {
            "sandbox:branch": "feature/x",
            "sandbox:owner": "a@example.com",
            "sandbox:image": "r.example.com/p:1",
            "sandbox:ttl": "2w",
        },
        computed={LEASE: existing_lease},
    )
    assert run.outputs["expiresAt"] == "2026-03-15T10:00:00+00:00"
    namespace = run.one("kubernetes:core/v1:Namespace")
    assert (
        namespace.inputs["metadata"]["annotations"]["pipeline-sandbox.io/expires-at"]
        == run.outputs["expiresAt"]
    )


def test_up_on_an_expired_sandbox_warns() -> None:
    def expired(args: Any) -> dict[str, Any]:
        olds = {**args.inputs, "createdAt": "2025-01-01T00:00:00+00:00"}
        return dict(SandboxLeaseProvider().update("id", olds, dict(args.inputs)).outs or {})

    run = sandbox_run(
        {
            "sandbox:branch": "feature/x",
            "sandbox:owner": "a@example.com",
            "sandbox:image": "r.example.com/p:1",
        },
        computed={LEASE: expired},
    )
    assert any("expired at 2025-01-08" in w and "pulumi destroy" in w for w in run.warnings())


@pytest.mark.parametrize("ttl", ["7d"])
def test_a_fresh_sandbox_does_not_warn(ttl: str) -> None:
    run = sandbox_run(
        {
            "sandbox:branch": "feature/x",
            "sandbox:owner": "a@example.com",
            "sandbox:image": "r.example.com/p:1",
            "sandbox:ttl": ttl,
        }
    )
    assert not [w for w in run.warnings() if "expired" in w]
