"""Tier stacks evaluated whole: components, manifests, contract outputs, protection and the gate."""

from __future__ import annotations

import pytest

from tests.conftest import ProgramFailed, ProgramRun
from tests.k8s_manifests import assert_valid_manifests
from tests.tier_support import PROD, STAGE, aws_overlay, shipped_versions, tier_run

CONTRACT = {
    "environment",
    "namespace",
    "versions",
    "lakefsEndpoint",
    "lakefsInternalEndpoint",
    "lakefsRepository",
    "lakefsDefaultBranch",
    "lakefsAccessKeyId",
    "lakefsSecretAccessKey",
    "metastoreUri",
    "codeImageRepository",
    "codeModule",
}
COMPONENTS = ["LocalPostgres", "LocalObjectStore", "LakeFSServer", "HiveMetastore", "DagsterHost"]


@pytest.mark.parametrize("stack", ["dev", "stage", "prod"])
def test_local_tier_has_every_component_valid_manifests_and_the_contract(stack: str) -> None:
    run = tier_run(stack)
    for component in COMPONENTS:
        run.one(f"pipeline-sandbox:tier:{component}")
    assert_valid_manifests(run, "1.33")
    assert set(run.outputs) >= CONTRACT
    assert run.secret_outputs >= {"lakefsAccessKeyId", "lakefsSecretAccessKey"}
    assert not {"environment", "namespace", "lakefsRepository"} & run.secret_outputs
    assert run.outputs["namespace"] == f"pipeline-{stack}"
    assert run.outputs["metastoreUri"].startswith("thrift://") and run.outputs["metastoreUri"].endswith(
        ":9083"
    )
    setup = run.one("pulumi-python:dynamic/lakefs:Setup")
    assert "connection" in setup.secret_inputs
    repo = run.one("pulumi-python:dynamic/lakefs:Repository")
    assert repo.inputs["name"] == "pipeline" and repo.inputs["defaultBranch"] == "main"
    protection = run.one("pulumi-python:dynamic/lakefs:BranchProtection")
    assert protection.inputs["patterns"] == ["main"]


def test_prod_protects_every_stateful_resource_and_dev_does_not() -> None:
    prod, dev = tier_run("prod"), tier_run("dev")
    stateful = [
        "kubernetes:apps/v1:StatefulSet",
        "pulumi-python:dynamic/lakefs:Repository",
        # A partial destroy must not lift the default branch's protection before failing at the repo.
        "pulumi-python:dynamic/lakefs:BranchProtection",
    ]
    for type_ in stateful:
        assert prod.of_type(type_) and all(r.protect for r in prod.of_type(type_)), type_
        assert not any(r.protect for r in dev.of_type(type_)), type_


def test_sizes_grow_from_config_not_code() -> None:
    def volume(run: object, name: str) -> str:
        sts = run.one("kubernetes:apps/v1:StatefulSet", name)  # type: ignore[attr-defined]
        return str(sts.inputs["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"])

    assert volume(tier_run("dev"), "tier-postgres-statefulset") == "5Gi"
    assert volume(tier_run("prod"), "tier-postgres-statefulset") == "50Gi"


def test_every_kubernetes_object_uses_the_explicit_provider() -> None:
    run = tier_run("dev", {"tier:kubernetes": {"context": "kind-pipeline"}})
    provider = run.one("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "kind-pipeline"
    for resource in run.resources:
        if resource.type.startswith("kubernetes:"):
            assert resource.provider.startswith(provider.urn), resource.name


def test_render_mode_writes_manifests_and_skips_lakefs_api_resources() -> None:
    run = tier_run("dev", {"tier:kubernetes": {"renderTo": "rendered/dev"}})
    assert run.one("pulumi:providers:kubernetes").inputs["renderYamlToDirectory"] == "rendered/dev"
    assert not run.of_type("pulumi-python:dynamic/lakefs:Repository")
    assert not run.of_type("pulumi-python:dynamic/lakefs:Setup")


def test_prod_on_aws_with_the_example_overlay() -> None:
    run = tier_run("prod", aws_overlay())
    for type_ in ("aws:s3/bucket:Bucket", "aws:rds/instance:Instance", "aws:iam/role:Role"):
        assert run.of_type(type_), type_
    assert run.one("aws:rds/instance:Instance").protect
    assert run.one("aws:s3/bucket:Bucket").protect
    assert not run.of_type("pipeline-sandbox:tier:LocalPostgres")
    assert set(run.outputs) >= CONTRACT


def test_aws_platform_without_its_settings_is_refused_by_key() -> None:
    with pytest.raises(ProgramFailed) as failure:
        tier_run("dev", {"tier:platform": "aws"})
    assert "tier:aws: is required when tier:platform is aws" in str(failure.value.error)
    assert failure.value.resources == []


def gate(
    requested: dict[str, str], stage: dict[str, str] | None, prod_runs: dict[str, str] | None
) -> ProgramRun:
    outputs = {
        STAGE: {"versions": stage} if stage else {},
        PROD: {"versions": prod_runs} if prod_runs else {},
    }
    return tier_run("prod", {"tier:versions": requested}, stack_outputs=outputs)


def test_gate_refuses_a_version_stage_does_not_run_before_touching_the_cluster() -> None:
    versions = shipped_versions("prod")
    with pytest.raises(ProgramFailed) as failure:
        gate({**versions, "lakefs": "1.85.0"}, stage=versions, prod_runs=versions)
    message = str(failure.value.error)
    assert "lakefs: requested 1.85.0, but the source stack runs 1.84.0" in message
    assert not [
        r for r in failure.value.resources if r.type.startswith(("kubernetes:", "pulumi-python:dynamic"))
    ]


def test_gate_allows_a_version_stage_runs() -> None:
    versions = shipped_versions("prod")
    run = gate({**versions, "lakefs": "1.85.0"}, stage={**versions, "lakefs": "1.85.0"}, prod_runs=versions)
    assert run.outputs["versions"]["lakefs"] == "1.85.0"


def test_gate_allows_an_unchanged_version_after_stage_moved_on() -> None:
    versions = shipped_versions("prod")
    run = gate(versions, stage={**versions, "dagster": "1.14.0"}, prod_runs=versions)
    assert run.outputs["versions"] == versions


def test_gate_on_first_deployment_requires_stage_to_match() -> None:
    versions = shipped_versions("prod")
    with pytest.raises(ProgramFailed):
        gate({**versions, "postgres": "17.0"}, stage=versions, prod_runs=None)


def test_dev_is_never_gated() -> None:
    run = tier_run("dev", {"tier:versions": {**shipped_versions("dev"), "lakefs": "9.9.9"}}, stack_outputs={})
    assert run.outputs["versions"]["lakefs"] == "9.9.9"
    assert not run.of_type("pulumi:pulumi:StackReference")


def test_the_tier_namespace_enforces_the_baseline_pod_security_standard() -> None:
    labels = tier_run("dev").one("kubernetes:core/v1:Namespace").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.33"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"


@pytest.mark.parametrize(
    ("component", "version", "expected"),
    [("metastore", "3.1.3", "apache/hive 4.x or newer"), ("postgres", "14.12", "Postgres 15 or newer")],
)
def test_a_component_version_below_its_floor_is_refused_by_config_before_anything(
    component: str, version: str, expected: str
) -> None:
    versions = {**shipped_versions("dev"), component: version}
    with pytest.raises(ProgramFailed) as failure:
        tier_run("dev", {"tier:versions": versions})
    message = str(failure.value.error)
    assert f"tier:versions.{component}" in message
    assert expected in message
    assert failure.value.resources == [], "something was declared although the config is invalid"


def test_the_tiers_dagster_url_names_the_kubeconfig_and_context_it_was_deployed_with() -> None:
    run = tier_run("dev", {"tier:kubernetes": {"context": "kind-dev", "kubeconfig": "/etc/kube/dev.yaml"}})
    assert run.outputs["dagsterUrl"] == (
        "kubectl --kubeconfig /etc/kube/dev.yaml --context kind-dev -n pipeline-dev "
        "port-forward svc/dagster-dagster-webserver 3000:80"
    )
