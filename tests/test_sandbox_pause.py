"""`sandbox:paused`: the sandbox's Dagster runs no pod, while everything holding data stays as it is."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from tests.conftest import ProgramFailed
from tests.sandbox_support import LEASE, sandbox_run
from tests.test_tier_chart_schemas import DAGSTER_SCHEMA_EXCERPT, sample_values

CHART = "kubernetes:helm.sh/v4:Chart"
METASTORE = "kubernetes:apps/v1:Deployment"
BASE = {
    "sandbox:branch": "feature/orders",
    "sandbox:owner": "alice@example.com",
    "sandbox:image": "r.example.com/p:1",
}


def _lease_kept(args: Any) -> dict[str, Any]:
    """The lease as a later `pulumi up` finds it: created once, its expiry unchanged."""
    return {"createdAt": "2026-12-01T09:00:00+00:00", "expiresAt": "2026-12-08T09:00:00+00:00"}


def test_paused_runs_no_webserver_daemon_or_code_server() -> None:
    values = sandbox_run({**BASE, "sandbox:paused": True}).one(CHART).inputs["values"]

    assert values["dagsterWebserver"]["replicaCount"] == 0
    assert values["dagsterDaemon"]["enabled"] is False
    # The subchart (code server) goes; `enabled` keeps the workspace naming the code location.
    assert values["dagster-user-deployments"]["enableSubchart"] is False
    assert values["dagster-user-deployments"]["enabled"] is True


def test_by_default_everything_runs_as_before() -> None:
    values = sandbox_run(BASE).one(CHART).inputs["values"]

    assert values["dagsterWebserver"]["replicaCount"] == 1
    assert values["dagsterDaemon"]["enabled"] is True
    assert values["dagster-user-deployments"]["enableSubchart"] is True


def test_paused_values_pass_the_chart_schema_excerpt() -> None:
    jsonschema.validate(sample_values(paused=True), DAGSTER_SCHEMA_EXCERPT)


def test_pausing_changes_only_the_dagster_chart_and_the_metastore_server() -> None:
    computed = {LEASE: _lease_kept}
    running = sandbox_run(BASE, computed=computed)
    paused = sandbox_run({**BASE, "sandbox:paused": True}, computed=computed)

    before = {(r.type, r.name): r.inputs for r in running.resources}
    changed = {
        (r.type, r.name)
        for r in paused.resources
        if before.get((r.type, r.name)) != r.inputs and not r.type.startswith("pulumi:")
    }

    # The namespace, run storage (StatefulSet, volume, database Job), catalog database and seed,
    # lakeFS branch and guard stay; Dagster and the metastore server scale to zero.
    assert changed == {(CHART, "sandbox-dagster-host-chart"), (METASTORE, "metastore-deployment")}
    assert {(r.type, r.name) for r in paused.resources} == set(before)
    assert paused.named("metastore-deployment").inputs["spec"]["replicas"] == 0
    assert running.named("metastore-deployment").inputs["spec"]["replicas"] == 1


def test_outputs_say_paused_created_and_tier() -> None:
    run = sandbox_run({**BASE, "sandbox:paused": True})

    assert run.outputs["paused"] is True
    assert run.outputs["createdAt"]
    assert run.outputs["tier"] == "organization/pipeline-sandbox/prod"
    assert sandbox_run(BASE).outputs["paused"] is False


def test_a_bad_paused_value_is_refused_naming_the_key() -> None:
    with pytest.raises(ProgramFailed, match="sandbox:paused"):
        sandbox_run({**BASE, "sandbox:paused": "sometimes"})
