"""The sandbox's own Dagster: the branch's code, the tier's Dagster version, private run storage."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.k8s.resources import quantity
from components.naming import sandbox_names
from components.sandbox.dag_deployment import split_image
from components.tier.dagster_host import SCHEDULES_ENV, SENSORS_ENV
from tests.conftest import ProgramFailed, ProgramRun
from tests.k8s_manifests import assert_valid_manifests
from tests.sandbox_support import (
    ACCESS_KEY_ID,
    PROD_TIER,
    PROD_TIER_OUTPUTS,
    SECRET_ACCESS_KEY,
    SOURCE_COMMIT,
    sandbox_run,
)
from tests.test_tier_chart_schemas import DAGSTER_SCHEMA_EXCERPT

CHART = "kubernetes:helm.sh/v4:Chart"
BASE = {
    "sandbox:branch": "feature/orders",
    "sandbox:owner": "alice@example.com",
    "sandbox:image": "registry.example.com/pipeline:feature-orders-7",
}
NAMESPACE = sandbox_names("feature/orders").namespace


def values_of(run: ProgramRun) -> dict[str, Any]:
    return dict(run.one(CHART).inputs["values"])


def code_location(run: ProgramRun) -> dict[str, Any]:
    deployments = values_of(run)["dagster-user-deployments"]["deployments"]
    assert len(deployments) == 1
    return dict(deployments[0])


def test_the_sandbox_runs_its_own_dagster_at_the_tiers_version_in_its_namespace() -> None:
    run = sandbox_run(BASE)
    chart = run.one(CHART)
    assert chart.inputs["chart"] == "dagster"
    assert chart.inputs["version"] == PROD_TIER_OUTPUTS["versions"]["dagster"]
    assert chart.inputs["namespace"] == NAMESPACE
    values = values_of(run)
    assert values["dagsterDaemon"]["enabled"] is True
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    # No jobNamespace: run Jobs go to the release namespace, the only one the chart's Role covers.
    assert "jobNamespace" not in values["runLauncher"]["config"]["k8sRunLauncher"]
    assert values["ingress"]["enabled"] is False
    assert values["dagsterWebserver"]["service"]["type"] == "ClusterIP"


def test_the_code_location_runs_the_given_image_with_the_wiring_contract() -> None:
    run = sandbox_run(BASE)
    location = code_location(run)
    assert location["image"]["repository"] == "registry.example.com/pipeline"
    assert location["image"]["tag"] == "feature-orders-7"
    assert location["dagsterApiGrpcArgs"] == ["--module-name", PROD_TIER_OUTPUTS["codeModule"]]
    env = location["env"]
    assert env["LAKEFS_ENDPOINT"] == PROD_TIER_OUTPUTS["lakefsInternalEndpoint"]
    assert env["LAKEFS_REPOSITORY"] == PROD_TIER_OUTPUTS["lakefsRepository"]
    assert env["LAKEFS_BRANCH"] == sandbox_names("feature/orders").lakefs_branch
    assert env["LAKEFS_SOURCE_COMMIT"] == SOURCE_COMMIT
    # The sandbox's own metastore (sandbox:metastore isolated, the default), not the tier's.
    assert env["HIVE_METASTORE_URI"] == f"thrift://metastore.{NAMESPACE}.svc.cluster.local:9083"
    # Credentials arrive only from the Secret, for the code server and (through the container
    # context) every run pod.
    assert location["envSecrets"] == [{"name": "lakefs-credentials"}]
    assert location["includeConfigInLaunchedRuns"] == {"enabled": True}
    plain_values = json.dumps(values_of(run))
    assert SECRET_ACCESS_KEY not in plain_values
    assert ACCESS_KEY_ID not in plain_values


def test_no_pod_is_created_before_its_secret_and_the_namespace_guards_exist() -> None:
    run = sandbox_run(BASE)
    credentials = run.one("kubernetes:core/v1:Secret", "sandbox-lakefs-credentials")
    guards = [
        run.one(kind).urn
        for kind in (
            "kubernetes:core/v1:Namespace",
            "kubernetes:core/v1:ResourceQuota",
            "kubernetes:core/v1:LimitRange",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        )
    ]
    assert credentials.urn in run.one(CHART).dependencies
    # Pod-making objects, nested in components or not, wait for the LimitRange defaults and quota.
    kinds = (
        CHART,
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:batch/v1:Job",
        "kubernetes:apps/v1:Deployment",
    )
    for resource in [r for kind in kinds for r in run.of_type(kind)]:
        missing = [g.rsplit("::", 1)[-1] for g in guards if g not in resource.dependencies]
        assert not missing, f"{resource.name} does not wait for {missing}"


def test_without_an_image_the_tiers_code_image_is_tagged_with_the_checked_out_commit(
    git_checkout: Callable[..., Path],
) -> None:
    checkout = git_checkout(branch="feature/orders")
    commit = _head(checkout)
    run = sandbox_run({"sandbox:owner": "alice@example.com"}, checkout)
    location = code_location(run)
    assert location["image"] == {
        "repository": PROD_TIER_OUTPUTS["codeImageRepository"],
        "tag": commit,
        "pullPolicy": "IfNotPresent",
    }


def test_a_digest_pinned_image_reaches_the_pod_unchanged() -> None:
    digest = "sha256:" + "ab" * 32
    run = sandbox_run({**BASE, "sandbox:image": f"registry.example.com:5000/team/pipeline@{digest}"})
    image = code_location(run)["image"]
    # The chart renders `<repository>:<tag>`.
    assert f"{image['repository']}:{image['tag']}" == f"registry.example.com:5000/team/pipeline@{digest}"


_SEGMENT = st.from_regex(r"[a-z0-9]{1,8}([._-][a-z0-9]{1,8}){0,2}", fullmatch=True)
_TAG = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,30}", fullmatch=True)


@given(
    registry=st.sampled_from(["", "registry.example.com/", "localhost:5000/"]),
    path=st.lists(_SEGMENT, min_size=1, max_size=3),
    tag=_TAG,
)
def test_split_image_joins_back_to_the_reference_the_user_gave(
    registry: str, path: list[str], tag: str
) -> None:
    image = f"{registry}{'/'.join(path)}:{tag}"
    repository, split_tag = split_image(image)
    assert f"{repository}:{split_tag}" == image
    assert split_tag == tag


def test_split_image_keeps_the_digest_when_a_tag_is_also_given() -> None:
    digest = "sha256:" + "0f" * 32
    assert split_image(f"r.example.com/p:1.2@{digest}") == ("r.example.com/p@sha256", "0f" * 32)


def test_split_image_refuses_an_unpinned_reference() -> None:
    with pytest.raises(ValueError, match="no tag or digest"):
        split_image("localhost:5000/pipeline")


def test_run_storage_is_a_private_postgres_created_inside_the_sandbox_namespace() -> None:
    run = sandbox_run(BASE)
    statefulset = run.one("kubernetes:apps/v1:StatefulSet")
    assert statefulset.inputs["metadata"]["namespace"] == NAMESPACE
    container = statefulset.inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"postgres:{PROD_TIER_OUTPUTS['versions']['postgres']}"
    # The database is created by a Job in the cluster: no path from the deploying machine needed.
    job = run.one("kubernetes:batch/v1:Job", "dagster-postgres-db-init-job")
    assert job.inputs["metadata"]["namespace"] == NAMESPACE
    postgresql = values_of(run)["postgresql"]
    assert postgresql["enabled"] is False
    assert postgresql["postgresqlHost"] == f"dagster-postgres.{NAMESPACE}.svc.cluster.local"
    assert postgresql["postgresqlDatabase"] == "dagster"
    for secret in run.of_type("kubernetes:core/v1:Secret"):
        assert "stringData" in secret.secret_inputs, f"{secret.name} holds its password in plain inputs"
    # Disposable with the sandbox: nothing here is protected.
    assert not any(r.protect for r in run.resources)


def test_schedules_and_sensors_stay_off_unless_turned_on() -> None:
    env = code_location(sandbox_run(BASE))["env"]
    assert (env[SCHEDULES_ENV], env[SENSORS_ENV]) == ("false", "false")
    env = code_location(sandbox_run({**BASE, "sandbox:schedules": True}))["env"]
    assert (env[SCHEDULES_ENV], env[SENSORS_ENV]) == ("true", "false")


def test_dagster_url_is_the_exact_port_forward_command() -> None:
    assert sandbox_run(BASE).outputs["dagsterUrl"] == (
        f"kubectl -n {NAMESPACE} port-forward svc/dagster-dagster-webserver 3000:80"
    )
    with_context = sandbox_run({**BASE, "sandbox:kubernetes": {"context": "kind-pipeline"}})
    assert with_context.outputs["dagsterUrl"] == (
        f"kubectl --context kind-pipeline -n {NAMESPACE} port-forward svc/dagster-dagster-webserver 3000:80"
    )


def test_dagster_url_names_the_kubeconfig_the_sandbox_was_deployed_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A relative kubeconfig is read from the program's directory; the printed command must find the
    # same file from anywhere, whatever KUBECONFIG says in the user's shell.
    kubeconfig = tmp_path / "kube configs" / "acceptance.yaml"
    kubeconfig.parent.mkdir()
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.chdir(tmp_path)
    settings = {"context": "acceptance", "kubeconfig": "kube configs/acceptance.yaml"}
    run = sandbox_run({**BASE, "sandbox:kubernetes": settings})
    argv = shlex.split(run.outputs["dagsterUrl"])
    printed = Path(argv[argv.index("--kubeconfig") + 1])
    assert printed.is_absolute()
    assert printed.samefile(kubeconfig)
    assert printed.samefile(run.one("pulumi:providers:kubernetes").inputs["kubeconfig"])
    assert argv[argv.index("--context") + 1] == "acceptance"
    assert argv[-3:] == ["port-forward", "svc/dagster-dagster-webserver", "3000:80"]


def test_dagster_url_expands_a_home_relative_kubeconfig() -> None:
    run = sandbox_run({**BASE, "sandbox:kubernetes": {"kubeconfig": "~/.kube/acceptance"}})
    assert run.outputs["dagsterUrl"] == (
        f"kubectl --kubeconfig {Path.home() / '.kube' / 'acceptance'} -n {NAMESPACE} "
        "port-forward svc/dagster-dagster-webserver 3000:80"
    )


def test_every_sandbox_manifest_is_valid_and_chart_values_match_the_chart_schema() -> None:
    run = sandbox_run(BASE)
    assert_valid_manifests(run, "1.33")
    jsonschema.validate(values_of(run), DAGSTER_SCHEMA_EXCERPT)


def test_a_tier_without_a_usable_postgres_version_is_refused_before_any_kubernetes_object() -> None:
    outputs = {**PROD_TIER_OUTPUTS, "versions": {"dagster": "1.13.28", "postgres": "14.9"}}
    with pytest.raises(ProgramFailed) as failure:
        sandbox_run(BASE, tier_outputs={PROD_TIER: outputs})
    message = str(failure.value.error)
    assert "versions: expected an object of component versions including 'dagster' and 'postgres'" in message
    assert "'14.9'" in message
    assert not [r for r in failure.value.resources if r.type.startswith("kubernetes:")]


def test_the_default_quota_admits_the_sandboxs_own_pods_and_its_concurrent_runs() -> None:
    run = sandbox_run(BASE)
    values = values_of(run)
    runs = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]["maxConcurrentRuns"]
    requests = [
        values["dagsterWebserver"]["resources"]["requests"],
        values["dagsterDaemon"]["resources"]["requests"],
        code_location(run)["resources"]["requests"],
        *[values["runLauncher"]["config"]["k8sRunLauncher"]["resources"]["requests"]] * int(runs),
        *_pod_requests(run),
    ]
    quota = run.one("kubernetes:core/v1:ResourceQuota").inputs["spec"]["hard"]
    for resource in ("cpu", "memory"):
        total = sum(quantity(r[resource]) for r in requests)
        assert total <= quantity(quota[f"requests.{resource}"]), resource


def _pod_requests(run: ProgramRun) -> list[dict[str, str]]:
    pods = [
        r.inputs["spec"]["template"]["spec"]
        for r in run.resources
        if r.type
        in ("kubernetes:apps/v1:StatefulSet", "kubernetes:batch/v1:Job", "kubernetes:apps/v1:Deployment")
    ]
    return [c["resources"]["requests"] for pod in pods for c in pod["containers"]]


def _head(checkout: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
