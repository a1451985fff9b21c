"""DagsterHost: the pinned official chart, external Postgres via a Secret, one code location, flags off."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.tier.dagster_host import (
    SCHEDULES_ENV,
    SENSORS_ENV,
    CodeLocation,
    DagsterHost,
    DagsterHostArgs,
    PostgresConnection,
)
from tests.conftest import ProgramRun, run_under_mocks
from tests.k8s_manifests import assert_valid_manifests

CHART = "kubernetes:helm.sh/v4:Chart"
SECRET = "kubernetes:core/v1:Secret"
PG_PASSWORD = "pg-password-that-must-stay-secret"


def location(**overrides: Any) -> CodeLocation:
    fields: dict[str, Any] = {
        "name": "pipeline",
        "image_repository": "registry.example.com/pipeline",
        "image_tag": "abc123",
        "grpc_args": ("-m", "pipeline.definitions"),
        "env": {"LAKEFS_ENDPOINT": "http://lakefs.tier.svc.cluster.local", "LAKEFS_BRANCH": "sbx-x"},
        "env_secrets": ("lakefs-credentials",),
    }
    return CodeLocation(**{**fields, **overrides})


def host_args(**overrides: Any) -> DagsterHostArgs:
    fields: dict[str, Any] = {
        "namespace": "sbx-feature-x",
        "dagster_version": "1.13.28",
        "code_location": location(),
        "postgres": PostgresConnection(
            host="postgres.tier.svc.cluster.local",
            username="sbx_feature_x",
            database="sbx_feature_x",
            password=pulumi.Output.secret(PG_PASSWORD),
        ),
    }
    return DagsterHostArgs(**{**fields, **overrides})


def deploy(**overrides: Any) -> ProgramRun:
    def program() -> None:
        host = DagsterHost("dagster", host_args(**overrides))
        pulumi.export("service", host.webserver_service)
        pulumi.export("port", host.webserver_port)
        pulumi.export("portForward", host.url_port_forward_command)

    return run_under_mocks(program)


def values_of(run: ProgramRun) -> dict[str, Any]:
    return dict(run.one(CHART).inputs["values"])


def test_chart_is_the_official_one_pinned_to_the_dagster_version() -> None:
    chart = deploy().one(CHART)
    assert chart.inputs["chart"] == "dagster"
    assert chart.inputs["version"] == "1.13.28"
    assert chart.inputs["repositoryOpts"] == {"repo": "https://dagster-io.github.io/helm"}
    assert chart.inputs["namespace"] == "sbx-feature-x"
    assert chart.inputs["name"] == "dagster"


def test_external_postgres_password_only_through_the_created_secret() -> None:
    run = deploy()
    values = values_of(run)
    assert values["postgresql"]["enabled"] is False
    assert values["postgresql"]["postgresqlHost"] == "postgres.tier.svc.cluster.local"
    assert values["postgresql"]["postgresqlUsername"] == "sbx_feature_x"
    assert values["postgresql"]["postgresqlDatabase"] == "sbx_feature_x"
    assert "postgresqlPassword" not in values["postgresql"]
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"] == "dagster-postgresql-password"
    secret = run.one(SECRET)
    assert secret.inputs["metadata"]["name"] == "dagster-postgresql-password"
    assert secret.inputs["stringData"] == {"postgresql-password": PG_PASSWORD}
    assert "stringData" in secret.secret_inputs
    assert secret.urn in run.one(CHART).dependencies
    chart = run.one(CHART)
    assert PG_PASSWORD not in json.dumps(chart.inputs)
    assert chart.secret_inputs == set()


def test_password_secret_is_strictly_valid_and_labelled() -> None:
    run = deploy()
    assert_valid_manifests(run, "1.33")
    secret = run.one(SECRET)
    assert secret.inputs["metadata"]["labels"]["app.kubernetes.io/part-of"] == "pipeline-sandbox"
    assert secret.inputs["metadata"]["namespace"] == "sbx-feature-x"


def test_daemon_queues_runs_and_k8s_launcher_uses_the_job_namespace() -> None:
    values = values_of(deploy(job_namespace="sbx-feature-x", max_concurrent_runs=2))
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["enabled"] is True
    assert coordinator["type"] == "QueuedRunCoordinator"
    assert coordinator["config"]["queuedRunCoordinator"]["maxConcurrentRuns"] == 2
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert launcher["jobNamespace"] == "sbx-feature-x"
    assert launcher["resources"]["limits"] and launcher["resources"]["requests"]
    # Unset job namespace: the chart's default, the release namespace, where its Role applies.
    assert "jobNamespace" not in values_of(deploy())["runLauncher"]["config"]["k8sRunLauncher"]


def test_one_code_location_whose_env_and_secrets_reach_run_pods() -> None:
    values = values_of(deploy())
    user = values["dagster-user-deployments"]
    assert user["enabled"] is True and user["enableSubchart"] is True
    [deployment] = user["deployments"]
    assert deployment["name"] == "pipeline"
    assert deployment["image"]["repository"] == "registry.example.com/pipeline"
    assert deployment["image"]["tag"] == "abc123"
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "pipeline.definitions"]
    assert deployment["port"] == 3030
    assert deployment["env"]["LAKEFS_BRANCH"] == "sbx-x"
    assert deployment["envSecrets"] == [{"name": "lakefs-credentials"}]
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}


def test_schedules_and_sensors_are_off_unless_turned_on() -> None:
    env = values_of(deploy())["dagster-user-deployments"]["deployments"][0]["env"]
    assert (env[SCHEDULES_ENV], env[SENSORS_ENV]) == ("false", "false")
    env = values_of(deploy(schedules=True))["dagster-user-deployments"]["deployments"][0]["env"]
    assert (env[SCHEDULES_ENV], env[SENSORS_ENV]) == ("true", "false")
    env = values_of(deploy(sensors=True))["dagster-user-deployments"]["deployments"][0]["env"]
    assert (env[SCHEDULES_ENV], env[SENSORS_ENV]) == ("false", "true")


def test_ingress_and_telemetry_off_and_everything_namespaced() -> None:
    values = values_of(deploy(create_rbac=False))
    assert values["ingress"] == {"enabled": False}
    assert values["telemetry"] == {"enabled": False}
    assert values["rbacEnabled"] is False
    assert values["serviceAccount"] == {"create": True, "name": "dagster"}
    assert values["global"]["serviceAccountName"] == "dagster"


def test_every_container_is_sized_and_hardened() -> None:
    values = values_of(deploy())
    pods = [
        values["dagsterWebserver"],
        values["dagsterDaemon"],
        values["dagster-user-deployments"]["deployments"][0],
    ]
    for pod in pods:
        assert pod["resources"]["requests"] and pod["resources"]["limits"]
        assert pod["podSecurityContext"]["runAsNonRoot"] is True
        assert pod["podSecurityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["securityContext"]["allowPrivilegeEscalation"] is False
        assert pod["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    # Dagster's own sizing, not the smaller components.k8s default.
    assert values["dagsterWebserver"]["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }
    run_container = values["runLauncher"]["config"]["k8sRunLauncher"]["securityContext"]
    assert run_container["runAsNonRoot"] is True and run_container["allowPrivilegeEscalation"] is False


def test_outputs_tell_the_user_how_to_open_the_ui() -> None:
    run = deploy()
    assert run.outputs == {
        "service": "dagster-dagster-webserver",
        "port": 80,
        "portForward": "kubectl -n sbx-feature-x port-forward svc/dagster-dagster-webserver 3000:80",
    }
    assert values_of(run)["dagsterWebserver"]["service"] == {"type": "ClusterIP", "port": 80}
    assert values_of(run)["dagsterWebserver"]["nameOverride"] == "dagster-webserver"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"release_name": "sandbox"}, "release_name: must contain 'dagster'"),
        ({"release_name": "Dagster"}, "release_name: 'Dagster' cannot name Kubernetes objects"),
        ({"code_location": location(env={SCHEDULES_ENV: "true"})}, "code_location.env"),
        ({"code_location": location(grpc_args=())}, "code_location.grpc_args"),
        ({"code_location": location(name="my_location")}, "code_location.name"),
        ({"max_concurrent_runs": 0}, "max_concurrent_runs"),
    ],
)
def test_bad_args_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(Exception, match=message):
        deploy(**overrides)
