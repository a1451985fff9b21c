"""The aws tier's databases: one RDS server, a role, password and database per consumer, made by a Job."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from components.tier.postgres_bootstrap import ensure_databases_script
from tests.conftest import ProgramFailed, ProgramRun
from tests.k8s_manifests import assert_valid_manifests, containers, to_manifest
from tests.tier_support import aws_overlay, shipped_versions, tier_run

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pulumi_aws")

RDS_HOST = "tier.abc.eu-west-1.rds.amazonaws.com"  # what tier_support's mocks answer for the instance
CONSUMERS = ("lakefs", "metastore", "dagster")
SECRET = "kubernetes:core/v1:Secret"


@cache
def prod_on_aws() -> ProgramRun:
    return tier_run("prod", aws_overlay())


def manifest(run: ProgramRun, resource_name: str) -> dict[str, Any]:
    return to_manifest(run.named(resource_name))


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def bootstrap_container(run: ProgramRun) -> dict[str, Any]:
    (container,) = containers(manifest(run, "tier-rds-db-init-job"))
    return container


def test_every_manifest_of_the_aws_tier_is_strictly_valid() -> None:
    assert_valid_manifests(prod_on_aws(), "1.33")


def test_the_job_logs_in_to_rds_as_the_master_user_over_tls_with_the_engines_psql() -> None:
    run = prod_on_aws()
    container = bootstrap_container(run)
    env = env_of(container)

    assert env["PGHOST"] == RDS_HOST
    assert env["PGSSLMODE"] == "require"
    assert env["PGUSER"] == "tier_admin"
    assert env["PGPASSWORD"] == {"secretKeyRef": {"name": "tier-rds-admin", "key": "password"}}
    assert container["image"] == f"postgres:{shipped_versions('prod')['postgres']}"
    admin = manifest(run, "tier-rds-admin")
    assert admin["stringData"]["username"] == "tier_admin"
    assert "stringData" in run.named("tier-rds-admin").secret_inputs


def test_the_job_waits_for_the_rds_instance_and_every_consumer_waits_for_the_job() -> None:
    run = prod_on_aws()
    job = run.named("tier-rds-db-init-job")
    assert run.one("aws:rds/instance:Instance").urn in job.dependencies
    for consumer in ("tier-lakefs-server-secret", "tier-metastore-schema-job", "tier-dagster-chart"):
        assert job.urn in run.named(consumer).dependencies, consumer


def test_each_consumer_gets_its_own_role_database_and_password_with_tls() -> None:
    run = prod_on_aws()
    admin_password = manifest(run, "tier-rds-admin")["stringData"]["password"]
    passwords = set()
    for db in CONSUMERS:
        data = manifest(run, f"tier-rds-db-{db}")["stringData"]
        assert data["username"] == data["database"] == db
        assert data["password"] == data["postgresql-password"] != admin_password
        assert data["connection-string"] == (
            f"postgres://{db}:{data['password']}@{RDS_HOST}:5432/{db}?sslmode=require"
        )
        passwords.add(data["password"])
    assert len(passwords) == len(CONSUMERS)
    assert bootstrap_container(run)["env"][-4:] == [
        {
            "name": f"PASSWORD_{role.upper()}",
            "valueFrom": {
                "secretKeyRef": {"name": f"tier-rds-db-{role.replace('_', '-')}", "key": "password"}
            },
        }
        for role in (*CONSUMERS, "metastore_reader")
    ]
    reader = manifest(run, "tier-rds-db-metastore-reader")["stringData"]
    assert (reader["username"], reader["database"]) == ("metastore_reader", "metastore")
    assert reader["password"] not in passwords


def test_lakefs_the_metastore_and_dagster_log_in_as_themselves() -> None:
    run = prod_on_aws()
    lakefs_db = manifest(run, "tier-rds-db-lakefs")["stringData"]
    lakefs = manifest(run, "tier-lakefs-server-secret")["stringData"]
    assert lakefs["database_connection_string"] == lakefs_db["connection-string"]

    (metastore,) = containers(manifest(run, "tier-metastore-deployment"))[-1:]
    env = env_of(metastore)
    assert env["METASTORE_DB_USER"] == {"secretKeyRef": {"name": "tier-rds-db-metastore", "key": "username"}}
    assert env["METASTORE_DB_PASSWORD"] == {
        "secretKeyRef": {"name": "tier-rds-db-metastore", "key": "password"}
    }

    postgresql = run.named("tier-dagster-chart").inputs["values"]["postgresql"]
    assert (postgresql["postgresqlUsername"], postgresql["postgresqlDatabase"]) == ("dagster", "dagster")
    assert postgresql["postgresqlHost"] == RDS_HOST
    dagster_password = manifest(run, "tier-dagster-postgres-secret")["stringData"]["postgresql-password"]
    assert dagster_password == manifest(run, "tier-rds-db-dagster")["stringData"]["password"]


def test_no_password_appears_in_a_plain_input() -> None:
    run = prod_on_aws()
    generated = [f"generated-{r.name}" for r in run.of_type("random:index/randomPassword:RandomPassword")]
    assert len(generated) >= 1 + len(CONSUMERS)  # RDS admin and one per consumer, at least
    for resource in run.resources:
        plain = {k: v for k, v in resource.inputs.items() if k not in resource.secret_inputs}
        text = json.dumps(plain)
        leaked = [value for value in generated if value in text]
        assert not leaked, f"{resource.type} {resource.name} holds {leaked} in plain inputs"


def test_no_consumer_logs_in_as_the_rds_admin() -> None:
    run = prod_on_aws()
    for resource in run.of_type(SECRET):
        data = resource.inputs.get("stringData", {})
        if resource.name != "tier-rds-admin":
            assert data.get("username") != "tier_admin", resource.name
            assert "tier_admin" not in data.get("database_connection_string", ""), resource.name


def test_a_postgres_version_too_old_for_the_job_fails_before_anything_is_declared() -> None:
    versions = {**shipped_versions("dev"), "postgres": "14.12"}
    with pytest.raises(ProgramFailed) as failure:
        tier_run("dev", {**aws_overlay(), "tier:versions": versions}, stack_outputs={})
    message = str(failure.value.error)
    assert "tier:versions.postgres" in message
    assert "Postgres 15 or newer" in message
    assert failure.value.resources == [], "something was declared although the config is invalid"


def _statements(script: str, db: str) -> list[str]:
    """The statements the script builds for ``db`` (each ``SELECT format(...)``, with its guard)."""
    block = script.split(f"\\set name {db}\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"SELECT format\('([^']*)'.*?\\gexec", block, flags=re.DOTALL)


def test_the_script_grants_each_role_to_the_admin_before_giving_it_ownership() -> None:
    script = ensure_databases_script(list(CONSUMERS))
    for db in CONSUMERS:
        statements = _statements(script, db)
        grant = statements.index("GRANT %I TO CURRENT_USER")
        assert grant < statements.index("CREATE DATABASE %I OWNER %I")
        assert grant < statements.index("ALTER DATABASE %I OWNER TO %I")
        assert statements.index("CREATE ROLE %I LOGIN") < grant
    # A superuser (the in-cluster server's) is a member of every role already and gets no grant.
    assert script.count("WHERE NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)") == 3


def test_the_script_only_creates_what_is_missing() -> None:
    script = ensure_databases_script(list(CONSUMERS))
    creates = re.findall(r"SELECT format\('CREATE [^\n]*\n([^\n]*)", script)
    assert len(creates) == 2 * len(CONSUMERS)
    for guard in creates:
        assert guard.lstrip().startswith("WHERE NOT EXISTS (SELECT FROM pg_"), guard
    # PostgreSQL 15 has no GRANT ... WITH SET; the plain form works on 15 and 16+.
    assert "WITH SET" not in script


@pytest.mark.parametrize(
    ("run", "expected_sslmode"), [(prod_on_aws, "require"), (lambda: tier_run("prod"), None)]
)
def test_every_postgres_client_asks_for_tls_on_rds_and_only_there(
    run: Any, expected_sslmode: str | None
) -> None:
    tier = run()
    dagster_params = tier.named("tier-dagster-chart").inputs["values"]["postgresql"]["postgresqlParams"]
    assert dagster_params.get("sslmode") == expected_sslmode
    metastore = json.dumps(manifest(tier, "tier-metastore-deployment"))
    jdbc = re.search(r"ConnectionURL=(jdbc:postgresql://[^ \"]+)", metastore)
    assert jdbc is not None, "the metastore gets no JDBC URL"
    assert ("sslmode=require" in jdbc.group(1)) == (expected_sslmode == "require"), jdbc.group(1)
    lakefs = manifest(tier, "tier-lakefs-server-secret")["stringData"]["database_connection_string"]
    assert lakefs.endswith(f"sslmode={expected_sslmode or 'disable'}")
