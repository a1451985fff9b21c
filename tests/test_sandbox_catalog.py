"""The sandbox's own Hive metastore under mocks: its database, the seed Job and its ordering, the
wiring, the tier's read-only identity, and ``sandbox:metastore`` values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import ConfigError
from components.naming import sandbox_names
from components.sandbox.catalog import seed_scripts
from tests.conftest import ProgramFailed, ProgramRun
from tests.k8s_manifests import assert_valid_manifests
from tests.sandbox_support import (
    OLDER_TIER_OUTPUTS,
    PROD_TIER,
    PROD_TIER_OUTPUTS,
    READER_PASSWORD,
    SOURCE_COMMIT,
    sandbox_run,
)
from tests.tier_support import tier_run

CHART = "kubernetes:helm.sh/v4:Chart"
JOB = "kubernetes:batch/v1:Job"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
BASE = {
    "sandbox:branch": "feature/orders",
    "sandbox:owner": "alice@example.com",
    "sandbox:image": "registry.example.com/pipeline:7",
}
NAMES = sandbox_names("feature/orders")
SANDBOX_URI = f"thrift://metastore.{NAMES.namespace}.svc.cluster.local:9083"


def seed_job(run: ProgramRun) -> Any:
    return run.one(JOB, "sandbox-catalog-seed")


def env_of(job: Any) -> dict[str, Any]:
    container = job.inputs["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def code_location_env(run: ProgramRun) -> dict[str, str]:
    return dict(run.one(CHART).inputs["values"]["dagster-user-deployments"]["deployments"][0]["env"])


def test_the_metastore_schema_lives_in_a_second_database_of_the_sandboxs_postgres() -> None:
    run = sandbox_run(BASE)

    # The run storage keeps its names: a second database adds objects, it renames none.
    assert run.one("kubernetes:apps/v1:StatefulSet").name == "dagster-postgres-statefulset"
    secrets = {r.name for r in run.of_type("kubernetes:core/v1:Secret")}
    assert {"dagster-postgres-db-dagster", "dagster-postgres-db-metastore"} <= secrets
    script = run.one("kubernetes:core/v1:ConfigMap", "dagster-postgres-db-init").inputs["data"]
    assert "\\set name metastore" in script["ensure-databases.sql"]
    deployment = run.one(DEPLOYMENT, "metastore-deployment")
    server_env = {e["name"]: e for e in deployment.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (
        f"jdbc:postgresql://dagster-postgres.{NAMES.namespace}.svc.cluster.local:5432/metastore"
        in server_env["SERVICE_OPTS"]["value"]
    )
    assert (
        server_env["METASTORE_DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"]
        == "dagster-postgres-db-metastore"
    )
    # The tier's Hive version, and no schematool over the copied schema.
    assert deployment.inputs["spec"]["template"]["spec"]["containers"][0]["image"] == "apache/hive:4.0.1"
    assert [j.name for j in run.of_type(JOB) if "schema" in j.name] == []
    assert deployment.inputs["metadata"]["namespace"] == NAMES.namespace


def test_the_seed_reads_the_tier_as_its_read_only_role_and_writes_onto_the_branch() -> None:
    run = sandbox_run(BASE)
    job = seed_job(run)
    env = env_of(job)
    tier_db = PROD_TIER_OUTPUTS["metastoreDatabase"]

    assert job.inputs["spec"]["template"]["spec"]["containers"][0]["image"] == "postgres:16.4"
    assert job.inputs["spec"]["template"]["spec"]["containers"][0]["command"] == ["sh", "/scripts/seed.sh"]
    assert (env["SOURCE_HOST"], env["SOURCE_PORT"], env["SOURCE_DATABASE"]) == (
        tier_db["host"],
        "5432",
        "metastore",
    )
    assert env["SOURCE_USER"] == {"secretKeyRef": {"name": "metastore-seed-reader", "key": "username"}}
    assert env["SOURCE_PASSWORD"] == {"secretKeyRef": {"name": "metastore-seed-reader", "key": "password"}}
    assert env["TARGET_PASSWORD"] == {
        "secretKeyRef": {"name": "dagster-postgres-db-metastore", "key": "password"}
    }
    assert (env["LAKEFS_REPOSITORY"], env["SOURCE_REF"], env["SOURCE_COMMIT"]) == (
        "pipeline",
        "main",
        SOURCE_COMMIT,
    )
    assert env["SANDBOX_BRANCH"] == NAMES.lakefs_branch
    assert env["INCLUDE_DATABASES"] == ""
    scripts = run.one("kubernetes:core/v1:ConfigMap", "sandbox-catalog-seed-scripts")
    assert scripts.inputs["data"] == seed_scripts()
    reader = run.one("kubernetes:core/v1:Secret", "sandbox-catalog-reader")
    assert "stringData" in reader.secret_inputs
    assert reader.inputs["stringData"]["password"] == READER_PASSWORD
    for resource in run.resources:
        if resource.type != "kubernetes:core/v1:Secret":
            assert READER_PASSWORD not in json.dumps(resource.inputs), resource.name
    assert READER_PASSWORD not in json.dumps(run.outputs)


def test_seeding_comes_before_the_metastore_server_and_the_code_location() -> None:
    run = sandbox_run(BASE)
    job = seed_job(run)
    init = run.one(JOB, "dagster-postgres-db-init-job")
    deployment = run.one(DEPLOYMENT, "metastore-deployment")
    chart = run.one(CHART)

    assert init.urn in job.dependencies  # the database and its role exist before the seed
    assert job.urn in deployment.dependencies
    annotations = deployment.inputs["spec"]["template"]["metadata"]["annotations"]
    assert annotations["pipeline-sandbox/schema"] == job.inputs["metadata"]["name"]
    assert deployment.urn in chart.dependencies  # the code location starts once the metastore serves
    assert code_location_env(run)["HIVE_METASTORE_URI"] == SANDBOX_URI


def test_the_wiring_contract_points_at_the_sandboxs_metastore() -> None:
    run = sandbox_run(BASE)
    wiring = run.one("kubernetes:core/v1:ConfigMap", "sandbox-wiring").inputs["data"]

    assert wiring["HIVE_METASTORE_URI"] == SANDBOX_URI
    assert run.outputs["metastore"] == "isolated"
    assert run.outputs["metastoreUri"] == SANDBOX_URI
    assert run.outputs["metastoreSeedLog"] == (
        f"kubectl -n {NAMES.namespace} logs job/{seed_job(run).inputs['metadata']['name']}"
    )


def test_a_newer_snapshot_renames_the_seed_job_and_nothing_else_reseeds() -> None:
    def seed_name(run: ProgramRun) -> str:
        return str(seed_job(run).inputs["metadata"]["name"])

    def branch_at(commit: str) -> dict[str, Any]:
        return {
            "pulumi-python:dynamic/lakefs:Branch": lambda a: {"sourceCommit": commit, "headCommit": commit}
        }

    first = sandbox_run(BASE)
    assert seed_name(first) == seed_name(sandbox_run(BASE))
    assert seed_name(first) != seed_name(sandbox_run(BASE, computed=branch_at("beef" + "0" * 60)))
    with_databases = sandbox_run({**BASE, "sandbox:metastoreDatabases": ["sales", "finance"]})
    assert env_of(seed_job(with_databases))["INCLUDE_DATABASES"] == "sales,finance"
    assert seed_name(with_databases) != seed_name(first)


def test_shared_uses_the_tiers_metastore_and_declares_nothing_for_it() -> None:
    run = sandbox_run({**BASE, "sandbox:metastore": "shared"}, tier_outputs={PROD_TIER: OLDER_TIER_OUTPUTS})

    assert code_location_env(run)["HIVE_METASTORE_URI"] == PROD_TIER_OUTPUTS["metastoreUri"]
    assert run.outputs["metastoreUri"] == PROD_TIER_OUTPUTS["metastoreUri"]
    assert "metastoreSeedLog" not in run.outputs
    assert not [r for r in run.resources if "metastore" in r.name or "catalog" in r.name]
    script = run.one("kubernetes:core/v1:ConfigMap", "dagster-postgres-db-init").inputs["data"]
    assert "metastore" not in script["ensure-databases.sql"]


def test_none_gives_pipeline_code_no_metastore() -> None:
    run = sandbox_run({**BASE, "sandbox:metastore": "none"}, tier_outputs={PROD_TIER: OLDER_TIER_OUTPUTS})

    assert "HIVE_METASTORE_URI" not in code_location_env(run)
    assert (
        "HIVE_METASTORE_URI" not in run.one("kubernetes:core/v1:ConfigMap", "sandbox-wiring").inputs["data"]
    )
    assert "metastoreUri" not in run.outputs
    assert not [r for r in run.resources if "metastore" in r.name or "catalog" in r.name]


def test_an_older_tier_is_refused_for_isolated_naming_its_missing_outputs_and_what_to_run() -> None:
    with pytest.raises(ProgramFailed) as failure:
        sandbox_run(BASE, tier_outputs={PROD_TIER: OLDER_TIER_OUTPUTS})

    message = str(failure.value)
    for output in ("metastoreDatabase", "metastoreReaderUsername", "metastoreReaderPassword", "'metastore'"):
        assert output in message
    assert "`pulumi up` on the tier stack" in message
    assert "sandbox:metastore shared" in message
    assert not [
        r
        for r in failure.value.resources
        if r.type.startswith("kubernetes:")
        and r.custom
        and "Provider" not in r.type
        and not r.type.startswith("pulumi:providers")
    ]


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"sandbox:metastore": "private"}, "sandbox:metastore"),
        ({"sandbox:metastoreDatabases": ["Sales"]}, "sandbox:metastoreDatabases"),
        ({"sandbox:metastoreDatabases": []}, "sandbox:metastoreDatabases"),
        (
            {"sandbox:metastore": "shared", "sandbox:metastoreDatabases": ["sales"]},
            "sandbox:metastoreDatabases",
        ),
    ],
)
def test_bad_metastore_settings_are_refused_naming_the_key_before_any_resource(
    config: dict[str, Any], key: str
) -> None:
    with pytest.raises(ProgramFailed) as failure:
        sandbox_run({**BASE, **config})

    assert isinstance(failure.value.error, ConfigError)
    assert key in str(failure.value)
    assert failure.value.resources == []


def test_every_manifest_of_an_isolated_sandbox_is_strictly_valid() -> None:
    assert_valid_manifests(sandbox_run(BASE), "1.33")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_tier_exports_its_metastore_database_and_a_secret_read_only_identity(stack: str) -> None:
    run = tier_run(stack)

    assert run.outputs["metastoreDatabase"] == {
        "host": f"tier-postgres.pipeline-{stack}.svc.cluster.local",
        "port": 5432,
        "name": "metastore",
        "sslmode": "disable",
    }
    assert run.outputs["metastoreReaderUsername"] == "metastore_reader"
    assert {"metastoreReaderUsername", "metastoreReaderPassword"} <= run.secret_outputs
    script = run.one("kubernetes:core/v1:ConfigMap", "tier-postgres-db-init").inputs["data"][
        "ensure-databases.sql"
    ]
    assert "GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I" in script
    assert "default_transaction_read_only = on" in script
    reader = run.one("kubernetes:core/v1:Secret", "tier-postgres-db-metastore-reader")
    assert reader.inputs["stringData"]["database"] == "metastore"
    assert "stringData" in reader.secret_inputs
