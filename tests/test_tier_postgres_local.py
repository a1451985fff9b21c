"""LocalPostgres: in-cluster Postgres with a database, role and credentials Secret per consumer."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.tier.postgres_bootstrap import ensure_databases_script
from components.tier.postgres_local import LocalPostgres, LocalPostgresArgs
from tests.conftest import ProgramRun, run_under_mocks
from tests.k8s_manifests import assert_valid_manifests, containers, manifests, pod_spec

RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
GENERATED = {RANDOM_PASSWORD: lambda a: {"result": f"generated-{a.name}"}}
STANDARD_LABELS = {
    "app.kubernetes.io/name": "postgres",
    "app.kubernetes.io/part-of": "pipeline-sandbox",
    "app.kubernetes.io/managed-by": "pulumi",
}


def run_postgres(**overrides: Any) -> ProgramRun:
    settings: dict[str, Any] = {
        "namespace": "tier",
        "version": "16.4",
        "databases": ["lakefs", "metastore", "dagster"],
    }
    settings.update(overrides)

    def program() -> None:
        pg = LocalPostgres("tier-postgres", LocalPostgresArgs(**settings))
        pulumi.export("host", pg.host)
        pulumi.export("port", pg.port)
        pulumi.export("secrets", {k: db.secret_name for k, db in pg.databases.items()})
        pulumi.export("users", {k: db.user for k, db in pg.databases.items()})
        pulumi.export("passwords", {k: db.password for k, db in pg.databases.items()})

    return run_under_mocks(program, computed=GENERATED)


def generated_values(run: ProgramRun) -> list[str]:
    return [f"generated-{r.name}" for r in run.of_type(RANDOM_PASSWORD)]


def by_kind(run: ProgramRun, kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests(run) if m["kind"] == kind]


def test_every_manifest_is_strictly_valid_for_kubernetes_1_33() -> None:
    assert_valid_manifests(run_postgres(), "1.33")


def test_every_object_is_in_the_namespace_and_carries_the_standard_labels() -> None:
    run = run_postgres()

    for manifest in manifests(run):
        assert manifest["metadata"]["namespace"] == "tier"
        assert STANDARD_LABELS.items() <= manifest["metadata"]["labels"].items(), manifest["kind"]


def test_the_service_selects_the_statefulset_pods_on_5432() -> None:
    run = run_postgres()
    (service,) = by_kind(run, "Service")
    (statefulset,) = by_kind(run, "StatefulSet")

    pod_labels = statefulset["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert statefulset["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
    assert service["spec"]["ports"][0]["port"] == 5432
    assert run.outputs["host"] == "tier-postgres.tier.svc.cluster.local"
    assert run.outputs["port"] == 5432


def test_pvc_size_and_storage_class_come_from_args() -> None:
    (statefulset,) = by_kind(run_postgres(storage_size="50Gi", storage_class_name="fast"), "StatefulSet")
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "50Gi"
    assert claim["spec"]["storageClassName"] == "fast"

    (default,) = by_kind(run_postgres(), "StatefulSet")
    assert "storageClassName" not in default["spec"]["volumeClaimTemplates"][0]["spec"]


def test_pgdata_is_a_subdirectory_of_the_volume_and_the_server_runs_as_postgres() -> None:
    (statefulset,) = by_kind(run_postgres(), "StatefulSet")
    spec = pod_spec(statefulset)
    assert spec is not None
    (server,) = spec["containers"]
    env = {e["name"]: e.get("value") for e in server["env"]}
    mounts = {m["name"]: m["mountPath"] for m in server["volumeMounts"]}
    assert env["PGDATA"].startswith(mounts["data"] + "/")
    assert spec["securityContext"]["runAsUser"] == 999
    assert spec["securityContext"]["fsGroup"] == 999
    assert server["image"] == "postgres:16.4"


def test_every_container_is_hardened_and_bounded() -> None:
    for manifest in manifests(run_postgres()):
        for container in containers(manifest):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["runAsNonRoot"] is True
            assert context["capabilities"]["drop"] == ["ALL"]
            assert context["seccompProfile"]["type"] == "RuntimeDefault"
            assert context["readOnlyRootFilesystem"] is True
            assert {"cpu", "memory"} <= container["resources"]["limits"].keys()
            assert {"cpu", "memory"} <= container["resources"]["requests"].keys()


def test_server_has_probes() -> None:
    (statefulset,) = by_kind(run_postgres(), "StatefulSet")
    (server,) = containers(statefulset)
    assert "pg_isready" in server["readinessProbe"]["exec"]["command"]
    assert {"startupProbe", "livenessProbe"} <= server.keys()


def test_generated_passwords_live_only_in_secrets() -> None:
    run = run_postgres()
    values = generated_values(run)
    assert len(values) == 4  # superuser + three databases

    for resource in run.resources:
        inputs = dict(resource.inputs)
        if resource.type == "kubernetes:core/v1:Secret":
            assert "stringData" in resource.secret_inputs
            inputs.pop("stringData")
        text = json.dumps(inputs)
        leaked = [v for v in values if v in text]
        assert not leaked, f"{resource.type} {resource.name} holds {leaked}"
    assert "passwords" in run.secret_outputs


def test_each_database_gets_its_own_user_and_credentials_secret() -> None:
    run = run_postgres()
    secrets = {m["metadata"]["name"]: m["stringData"] for m in by_kind(run, "Secret")}

    assert run.outputs["users"] == {"lakefs": "lakefs", "metastore": "metastore", "dagster": "dagster"}
    for db, secret_name in run.outputs["secrets"].items():
        data = secrets[secret_name]
        password = f"generated-tier-postgres-db-{db}-password"
        assert data["username"] == db
        assert data["database"] == db
        assert data["password"] == data["postgresql-password"] == password
        assert data["connection-string"] == (
            f"postgres://{db}:{password}@tier-postgres.tier.svc.cluster.local:5432/{db}?sslmode=disable"
        )
    assert run.outputs["passwords"]["lakefs"] == "generated-tier-postgres-db-lakefs-password"


def test_the_init_job_reads_every_password_from_a_secret_and_waits_for_the_server() -> None:
    run = run_postgres()
    (job,) = by_kind(run, "Job")
    (runner,) = containers(job)
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in runner["env"] if "valueFrom" in e}

    assert refs == {
        "PGPASSWORD": "tier-postgres-superuser",
        "PASSWORD_LAKEFS": "tier-postgres-db-lakefs",
        "PASSWORD_METASTORE": "tier-postgres-db-metastore",
        "PASSWORD_DAGSTER": "tier-postgres-db-dagster",
    }
    job_resource = run.one("kubernetes:batch/v1:Job")
    statefulset = run.one("kubernetes:apps/v1:StatefulSet")
    assert statefulset.urn in job_resource.dependencies
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] > 0


def _job_name(run: ProgramRun) -> str:
    (job,) = by_kind(run, "Job")
    name: str = job["metadata"]["name"]
    return name


def test_the_init_job_reruns_when_the_database_list_changes_and_only_then() -> None:
    first = _job_name(run_postgres())

    assert _job_name(run_postgres()) == first
    assert _job_name(run_postgres(storage_size="99Gi")) == first
    assert _job_name(run_postgres(databases=["lakefs", "metastore", "dagster", "extra"])) != first
    assert len(first) <= 63


def test_the_script_creates_roles_and_databases_only_when_missing() -> None:
    script = ensure_databases_script(["lakefs", "dagster"])

    for db in ("lakefs", "dagster"):
        assert f"\\set name {db}" in script
        assert f"\\getenv password PASSWORD_{db.upper()}" in script
    assert script.count("WHERE NOT EXISTS (SELECT FROM pg_roles") == 2
    assert script.count("WHERE NOT EXISTS (SELECT FROM pg_database") == 2
    assert "generated" not in script


def test_protect_applies_to_the_data_and_the_superuser_password() -> None:
    protected = run_postgres(protect=True)
    assert protected.one("kubernetes:apps/v1:StatefulSet").protect
    assert protected.named("tier-postgres-superuser-password").protect
    assert not protected.one("kubernetes:batch/v1:Job").protect

    unprotected = run_postgres()
    assert not any(r.protect for r in unprotected.resources)


def test_a_sandbox_can_reuse_it_for_one_database_in_its_own_namespace() -> None:
    run = run_postgres(namespace="sbx-feature-x", databases=["dagster"], storage_size="2Gi")

    assert run.outputs["host"] == "tier-postgres.sbx-feature-x.svc.cluster.local"
    assert run.outputs["secrets"] == {"dagster": "tier-postgres-db-dagster"}
    assert_valid_manifests(run, "1.33")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"databases": ["Lake-FS"]}, "invalid"),
        ({"databases": ["postgres"]}, "invalid"),
        ({"databases": ["a", "a"]}, "unique"),
        ({"version": "14.9"}, "15 or newer"),
    ],
)
def test_bad_args_fail_before_anything_is_declared(overrides: dict[str, Any], message: str) -> None:
    settings: dict[str, Any] = {"namespace": "tier", "version": "16.4", "databases": ["lakefs"]}
    with pytest.raises(ValueError, match=message):
        LocalPostgresArgs(**{**settings, **overrides})
