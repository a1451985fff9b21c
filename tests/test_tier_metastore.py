"""HiveMetastore: standalone metastore on Postgres, schema owned by a Job, credentials by reference."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi
import pytest

from components.tier.metastore import (
    HiveMetastore,
    HiveMetastoreArgs,
    JdbcDriver,
    MetastoreDatabase,
    MetastoreS3,
)
from components.tier.postgres_local import LocalPostgres, LocalPostgresArgs
from tests.conftest import ProgramRun, run_under_mocks
from tests.k8s_manifests import assert_valid_manifests, containers, manifests

RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
GENERATED = {RANDOM_PASSWORD: lambda a: {"result": f"generated-{a.name}"}}
DATABASE = MetastoreDatabase(
    host="tier-postgres.tier.svc.cluster.local", database="metastore", credentials_secret_name="pg-metastore"
)
LAKEFS_S3 = MetastoreS3(
    endpoint="http://lakefs.tier.svc.cluster.local",
    credentials_secret_name="lakefs-s3",
    warehouse_dir="s3a://lake/main/warehouse",
)


def run_metastore(**overrides: Any) -> ProgramRun:
    settings: dict[str, Any] = {"namespace": "tier", "version": "4.0.1", "database": DATABASE}
    settings.update(overrides)

    def program() -> None:
        metastore = HiveMetastore("tier-metastore", HiveMetastoreArgs(**settings))
        pulumi.export("uri", metastore.uri)

    return run_under_mocks(program)


def by_kind(run: ProgramRun, kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests(run) if m["kind"] == kind]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container["env"]}


def main_container(manifest: dict[str, Any]) -> dict[str, Any]:
    (container,) = manifest["spec"]["template"]["spec"]["containers"]
    return dict(container)


@pytest.mark.parametrize("s3", [None, LAKEFS_S3])
def test_every_manifest_is_strictly_valid_for_kubernetes_1_33(s3: MetastoreS3 | None) -> None:
    assert_valid_manifests(run_metastore(s3=s3), "1.33")


def test_uri_and_service_point_at_the_thrift_port() -> None:
    run = run_metastore()
    (service,) = by_kind(run, "Service")
    (deployment,) = by_kind(run, "Deployment")

    assert run.outputs["uri"] == "thrift://tier-metastore.tier.svc.cluster.local:9083"
    assert service["spec"]["ports"][0]["port"] == 9083
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    for manifest in manifests(run):
        assert manifest["metadata"]["namespace"] == "tier"
        assert manifest["metadata"]["labels"]["app.kubernetes.io/part-of"] == "pipeline-sandbox"


def test_the_server_runs_the_pinned_image_as_metastore_and_never_touches_the_schema() -> None:
    (deployment,) = by_kind(run_metastore(), "Deployment")
    server = main_container(deployment)
    env = env_of(server)

    assert server["image"] == "apache/hive:4.0.1"
    assert env["SERVICE_NAME"]["value"] == "metastore"
    assert env["DB_DRIVER"]["value"] == "postgres"
    assert env["IS_RESUME"]["value"] == "true"
    assert {"startupProbe", "livenessProbe", "readinessProbe"} <= server.keys()


def test_connection_options_reference_credentials_by_variable_only() -> None:
    run = run_metastore()
    for manifest in [*by_kind(run, "Deployment"), *by_kind(run, "Job")]:
        env = env_of(main_container(manifest))
        names = [e["name"] for e in main_container(manifest)["env"]]
        options = env["SERVICE_OPTS"]["value"]

        assert (
            "-Djavax.jdo.option.ConnectionURL=jdbc:postgresql://tier-postgres.tier.svc.cluster.local:5432/metastore"
            in options
        )
        assert "-Djavax.jdo.option.ConnectionUserName=$(METASTORE_DB_USER)" in options
        assert "-Djavax.jdo.option.ConnectionPassword=$(METASTORE_DB_PASSWORD)" in options
        assert env["METASTORE_DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": "pg-metastore",
            "key": "password",
        }
        # $(VAR) expands only from variables defined earlier in the list.
        assert names.index("METASTORE_DB_PASSWORD") < names.index("SERVICE_OPTS")


def test_connection_parameters_such_as_tls_reach_the_jdbc_url_and_rerun_the_schema_job() -> None:
    rds = MetastoreDatabase(
        host="tier.abc.eu-west-1.rds.amazonaws.com",
        database="metastore",
        credentials_secret_name="tier-rds-db-metastore",
        params={"sslmode": "require"},
    )
    run = run_metastore(database=rds)
    url = "jdbc:postgresql://tier.abc.eu-west-1.rds.amazonaws.com:5432/metastore?sslmode=require "
    for manifest in [*by_kind(run, "Deployment"), *by_kind(run, "Job")]:
        assert url in env_of(main_container(manifest))["SERVICE_OPTS"]["value"] + " "

    def job_name(run: ProgramRun) -> str:
        (job,) = by_kind(run, "Job")
        return str(job["metadata"]["name"])

    without = run_metastore(database=dataclasses.replace(rds, params={}))
    assert job_name(run) != job_name(without)


def test_schema_job_runs_schematool_before_the_server_starts() -> None:
    run = run_metastore()
    (job,) = by_kind(run, "Job")
    tool = main_container(job)

    assert tool["command"] == ["/opt/hive/bin/schematool", "-dbType", "postgres", "-initOrUpgradeSchema"]
    assert env_of(tool)["HADOOP_CLIENT_OPTS"]["value"] == "-Xmx1G $(SERVICE_OPTS)"
    assert run.one("kubernetes:batch/v1:Job").urn in run.one("kubernetes:apps/v1:Deployment").dependencies


def test_the_schema_job_reruns_on_a_new_version_only() -> None:
    def job_name(run: ProgramRun) -> str:
        (job,) = by_kind(run, "Job")
        return str(job["metadata"]["name"])

    assert job_name(run_metastore()) == job_name(run_metastore(replicas=2))
    assert job_name(run_metastore()) != job_name(run_metastore(version="4.1.0"))


def test_the_jdbc_driver_is_fetched_pinned_and_checksum_verified_into_hive_lib() -> None:
    driver = JdbcDriver()
    for manifest in [*by_kind(run_metastore(), "Deployment"), *by_kind(run_metastore(), "Job")]:
        (fetch,) = manifest["spec"]["template"]["spec"]["initContainers"]
        env = env_of(fetch)
        mounts = {m["mountPath"]: m for m in main_container(manifest)["volumeMounts"]}

        assert env["URL"]["value"].endswith(
            f"/org/postgresql/postgresql/{driver.version}/postgresql-{driver.version}.jar"
        )
        assert env["SHA256"]["value"] == driver.sha256
        assert "sha256sum -c" in fetch["args"][0]
        assert mounts["/opt/hive/lib/postgresql.jar"]["subPath"] == "postgresql.jar"


def test_s3_wiring_renders_site_config_and_credentials_by_reference() -> None:
    run = run_metastore(s3=LAKEFS_S3)
    (config,) = by_kind(run, "ConfigMap")
    site = config["data"]["metastore-site.xml"]
    env = env_of(main_container(by_kind(run, "Deployment")[0]))

    assert "<name>fs.s3a.endpoint</name>\n    <value>http://lakefs.tier.svc.cluster.local</value>" in site
    assert "<name>fs.s3a.path.style.access</name>\n    <value>true</value>" in site
    assert "<name>metastore.warehouse.dir</name>\n    <value>s3a://lake/main/warehouse</value>" in site
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "lakefs-s3"
    assert env["HADOOP_OPTIONAL_TOOLS"]["value"] == "hadoop-aws"


def test_config_changes_roll_the_pods() -> None:
    def checksum(run: ProgramRun) -> str:
        (deployment,) = by_kind(run, "Deployment")
        return str(
            deployment["spec"]["template"]["metadata"]["annotations"]["pipeline-sandbox/config-checksum"]
        )

    assert checksum(run_metastore()) != checksum(run_metastore(s3=LAKEFS_S3))


def test_wired_to_local_postgres_no_password_appears_outside_secrets() -> None:
    def program() -> None:
        pg = LocalPostgres(
            "tier-postgres", LocalPostgresArgs(namespace="tier", version="16.4", databases=["metastore"])
        )
        db = pg.databases["metastore"]
        HiveMetastore(
            "tier-metastore",
            HiveMetastoreArgs(
                namespace="tier",
                version="4.0.1",
                database=MetastoreDatabase(
                    host=pg.host, database=db.name, credentials_secret_name=db.secret_name
                ),
            ),
        )

    run = run_under_mocks(program, computed=GENERATED)
    values = [f"generated-{r.name}" for r in run.of_type(RANDOM_PASSWORD)]
    for resource in run.resources:
        inputs = dict(resource.inputs)
        if resource.type == "kubernetes:core/v1:Secret":
            inputs.pop("stringData")
        assert not [v for v in values if v in json.dumps(inputs)], f"{resource.type} {resource.name}"
    (deployment,) = [m for m in manifests(run) if m["kind"] == "Deployment"]
    secret_ref = env_of(main_container(deployment))["METASTORE_DB_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert secret_ref == {"name": "tier-postgres-db-metastore", "key": "password"}
    assert_valid_manifests(run, "1.33")


def test_containers_are_bounded_and_unprivileged() -> None:
    for manifest in manifests(run_metastore()):
        for container in containers(manifest):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["runAsNonRoot"] is True
            assert context["capabilities"]["drop"] == ["ALL"]
            assert {"cpu", "memory"} <= container["resources"]["limits"].keys()


@pytest.mark.parametrize(
    ("overrides", "message"), [({"version": "3.1.3"}, "4.x"), ({"replicas": -1}, "replicas")]
)
def test_bad_args_are_rejected(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HiveMetastoreArgs(**{"namespace": "tier", "version": "4.0.1", "database": DATABASE, **overrides})


def test_a_malformed_driver_checksum_is_rejected() -> None:
    with pytest.raises(ValueError, match="sha256"):
        JdbcDriver(sha256="abc")
