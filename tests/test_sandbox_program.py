"""A sandbox stack, evaluated whole against a deployed prod tier."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.naming import sandbox_names
from tests.conftest import ProgramFailed, SecretValue
from tests.sandbox_support import (
    ACCESS_KEY_ID,
    LAKEFS_BRANCH,
    PROD_TIER,
    PROD_TIER_OUTPUTS,
    SECRET_ACCESS_KEY,
    SOURCE_COMMIT,
    TIER_OUTPUTS,
    sandbox_run,
)

BASE = {
    "sandbox:branch": "feature/Orders",
    "sandbox:owner": "alice@example.com",
    "sandbox:image": "r.example.com/p:1",
}
NAMES = sandbox_names("feature/Orders")


def in_namespace(resource: Any) -> str:
    return str(resource.inputs["metadata"].get("namespace"))


def test_namespace_carries_the_sandbox_identity() -> None:
    run = sandbox_run(BASE)
    namespace = run.one("kubernetes:core/v1:Namespace")
    metadata = namespace.inputs["metadata"]
    assert metadata["name"] == NAMES.namespace
    assert metadata["labels"]["pipeline-sandbox.io/sandbox"] == NAMES.label_value
    annotations = metadata["annotations"]
    assert annotations["pipeline-sandbox.io/git-branch"] == "feature/Orders"
    assert annotations["pipeline-sandbox.io/owner"] == "alice@example.com"
    assert annotations["pipeline-sandbox.io/tier"] == PROD_TIER


def test_quota_limits_and_isolation_live_in_the_sandbox_namespace() -> None:
    run = sandbox_run({**BASE, "sandbox:quota": {"cpu": "2", "memory": "4Gi", "pods": 12}})
    quota = run.one("kubernetes:core/v1:ResourceQuota")
    assert in_namespace(quota) == NAMES.namespace
    hard = quota.inputs["spec"]["hard"]
    assert (hard["requests.cpu"], hard["requests.memory"], hard["pods"]) == ("2", "4Gi", "12")
    assert hard["limits.memory"] == "8Gi"
    limits = run.one("kubernetes:core/v1:LimitRange")
    assert in_namespace(limits) == NAMES.namespace
    assert limits.inputs["spec"]["limits"][0]["defaultRequest"] == {"cpu": "250m", "memory": "512Mi"}
    policy = run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    assert in_namespace(policy) == NAMES.namespace
    assert policy.inputs["spec"]["policyTypes"] == ["Ingress"]
    assert policy.inputs["spec"]["ingress"] == [{"from": [{"podSelector": {}}]}]


def test_lakefs_credentials_reach_pods_only_through_a_secret() -> None:
    run = sandbox_run(BASE)
    secret = run.one("kubernetes:core/v1:Secret", "sandbox-lakefs-credentials")
    assert "stringData" in secret.secret_inputs
    assert secret.inputs["stringData"]["LAKEFS_SECRET_ACCESS_KEY"] == SECRET_ACCESS_KEY
    for resource in run.resources:
        if resource is secret or resource.type.startswith("pulumi"):
            continue
        plain = json.dumps({k: v for k, v in resource.inputs.items() if k not in resource.secret_inputs})
        assert SECRET_ACCESS_KEY not in plain, f"{resource.name} holds the lakeFS secret in plain inputs"
        assert ACCESS_KEY_ID not in plain, f"{resource.name} holds the lakeFS key id in plain inputs"
    assert SECRET_ACCESS_KEY not in json.dumps(run.outputs)


def test_wiring_config_map_tells_pipeline_code_where_its_data_is() -> None:
    run = sandbox_run(BASE)
    wiring = run.one("kubernetes:core/v1:ConfigMap", "sandbox-wiring")
    assert in_namespace(wiring) == NAMES.namespace
    assert wiring.inputs["data"]["LAKEFS_ENDPOINT"] == PROD_TIER_OUTPUTS["lakefsInternalEndpoint"]
    assert wiring.inputs["data"]["LAKEFS_REPOSITORY"] == "pipeline"
    assert wiring.inputs["data"]["LAKEFS_BRANCH"] == NAMES.lakefs_branch


@pytest.mark.parametrize("flags", [{}, {"sandbox:schedules": True}, {"sandbox:sensors": "true"}])
def test_wiring_config_map_holds_every_plain_value_the_code_location_gets(flags: dict[str, Any]) -> None:
    # README: "The plain values are also in ConfigMap pipeline-wiring" - all of them, flags included.
    run = sandbox_run({**BASE, **flags})
    data = run.one("kubernetes:core/v1:ConfigMap", "sandbox-wiring").inputs["data"]
    chart_values = run.one("kubernetes:helm.sh/v4:Chart").inputs["values"]
    [location] = chart_values["dagster-user-deployments"]["deployments"]
    assert data == location["env"]
    assert data["PIPELINE_SANDBOX_SCHEDULES_ENABLED"] == str("sandbox:schedules" in flags).lower()
    assert data["PIPELINE_SANDBOX_SENSORS_ENABLED"] == str("sandbox:sensors" in flags).lower()


def test_every_kubernetes_object_goes_through_the_explicit_provider() -> None:
    run = sandbox_run({**BASE, "sandbox:kubernetes": {"context": "kind-pipeline"}})
    provider = run.one("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "kind-pipeline"
    for resource in run.resources:
        if resource.type.startswith("kubernetes:"):
            assert resource.provider.startswith(provider.urn), resource.name


def test_source_ref_defaults_to_the_tiers_default_branch_and_can_be_pinned() -> None:
    assert sandbox_run(BASE).outputs["sourceRef"] == "main"
    assert (
        sandbox_run({**BASE, "sandbox:sourceRef": "release-2026-11"}).outputs["sourceRef"]
        == "release-2026-11"
    )


def test_a_short_tier_name_is_qualified_with_org_and_project() -> None:
    outputs = {"organization/pipeline-sandbox/stage": {**PROD_TIER_OUTPUTS, "environment": "stage"}}
    run = sandbox_run({**BASE, "sandbox:tier": "stage"}, tier_outputs=outputs)
    assert run.one("pulumi:pulumi:StackReference").inputs["name"] == "organization/pipeline-sandbox/stage"


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ({"lakefsRepository": None}, "lakefsRepository: missing"),
        (
            {"lakefsInternalEndpoint": "lakefs:80"},
            "lakefsInternalEndpoint: expected an http(s) URL, got 'lakefs:80'",
        ),
        (
            {"versions": {"lakefs": "1.84.0"}},
            "versions: expected an object of component versions including 'dagster'",
        ),
        ({"lakefsSecretAccessKey": None}, "lakefsSecretAccessKey: missing"),
    ],
)
def test_a_malformed_tier_is_named_with_each_bad_output(broken: dict[str, Any], expected: str) -> None:
    outputs = {k: v for k, v in {**PROD_TIER_OUTPUTS, **broken}.items() if v is not None}
    with pytest.raises(ProgramFailed) as failure:
        sandbox_run(BASE, tier_outputs={PROD_TIER: outputs})
    message = str(failure.value.error)
    assert PROD_TIER in message
    assert expected in message
    touched = [r for r in failure.value.resources if r.type.startswith("kubernetes:")]
    assert touched == [], "a Kubernetes object was declared although the tier contract is broken"


def _nothing_touched(failure: ProgramFailed) -> None:
    touched = [
        r.name for r in failure.resources if r.type.startswith("kubernetes:") or r.type == LAKEFS_BRANCH
    ]
    assert touched == [], f"declared although the tier cannot be used: {touched}"


@pytest.mark.parametrize(
    ("config", "stack"),
    [
        ({}, "organization/pipeline-sandbox/prod"),
        ({"sandbox:tier": "stage"}, "organization/pipeline-sandbox/stage"),
    ],
)
def test_a_tier_stack_that_cannot_be_read_is_explained_naming_sandbox_tier(
    config: dict[str, Any], stack: str
) -> None:
    # The engine's own message for a missing stack is only `unknown stack "<name>"`.
    with pytest.raises(ProgramFailed) as failure:
        sandbox_run({**BASE, **config}, tier_outputs={})
    [explained] = failure.value.errors()
    assert f"cannot read tier stack {stack!r}, which sandbox:tier (default prod) names" in explained
    assert "pulumi config set sandbox:tier" in explained
    assert f"make up STACK={stack.rsplit('/', 1)[-1]}" in explained
    assert "pulumi stack ls" in explained
    _nothing_touched(failure.value)


def test_a_tier_stack_that_exports_nothing_is_named_as_not_deployed() -> None:
    with pytest.raises(ProgramFailed) as failure:
        sandbox_run(BASE, tier_outputs={PROD_TIER: {}})
    message = str(failure.value.error)
    assert f"tier stack {PROD_TIER!r}, which sandbox:tier (default prod) names, exports none" in message
    assert "has not been deployed" in message
    assert "make up STACK=prod" in message
    _nothing_touched(failure.value)


def test_a_tier_missing_only_its_secret_outputs_is_not_called_undeployed() -> None:
    outputs = {k: v for k, v in PROD_TIER_OUTPUTS.items() if not isinstance(v, SecretValue)}
    with pytest.raises(ProgramFailed) as failure:
        sandbox_run(BASE, tier_outputs={PROD_TIER: outputs})
    message = str(failure.value.error)
    assert "lakefsAccessKeyId: missing" in message
    assert "exports none" not in message


def test_secret_tier_outputs_are_never_printed_in_contract_errors() -> None:
    outputs = {**PROD_TIER_OUTPUTS, "lakefsRepository": 42}
    with pytest.raises(ProgramFailed) as failure:
        sandbox_run(BASE, tier_outputs={PROD_TIER: outputs})
    assert SECRET_ACCESS_KEY not in str(failure.value.error)
    assert TIER_OUTPUTS  # the shared fixture itself stays untouched


def test_data_is_a_lakefs_branch_of_the_tiers_repository_pinned_at_creation() -> None:
    run = sandbox_run({**BASE, "sandbox:discardUncommitted": True, "sandbox:archive": False})
    branch = run.one("pulumi-python:dynamic/lakefs:Branch")
    assert branch.inputs["repository"] == "pipeline"
    assert branch.inputs["branch"] == NAMES.lakefs_branch
    assert branch.inputs["sourceRef"] == "main"
    assert (branch.inputs["discardUncommitted"], branch.inputs["archive"]) == (True, False)
    assert branch.inputs["connection"]["endpoint"] == PROD_TIER_OUTPUTS["lakefsEndpoint"]
    assert "connection" in branch.secret_inputs
    assert run.outputs["sourceCommit"] == SOURCE_COMMIT
    wiring = run.one("kubernetes:core/v1:ConfigMap", "sandbox-wiring")
    assert wiring.inputs["data"]["LAKEFS_SOURCE_COMMIT"] == SOURCE_COMMIT


def test_destroy_defaults_keep_data_safe() -> None:
    branch = sandbox_run(BASE).one("pulumi-python:dynamic/lakefs:Branch")
    assert (branch.inputs["discardUncommitted"], branch.inputs["archive"]) == (False, True)


def test_the_branch_refuses_an_unprotected_tier_and_names_the_tier_stack() -> None:
    # The provider checks lakeFS at create (tests/lakefs/test_branch.py); here: the sandbox asks for it.
    branch = sandbox_run(BASE).one("pulumi-python:dynamic/lakefs:Branch")
    assert branch.inputs["requireProtectedDefault"] is True
    assert branch.inputs["tierStack"] == PROD_TIER


def test_a_git_branch_named_main_gets_its_own_lakefs_branch() -> None:
    run = sandbox_run({**BASE, "sandbox:branch": "main"})
    branch = run.one("pulumi-python:dynamic/lakefs:Branch")
    assert branch.inputs["branch"] == "sbx-main" != PROD_TIER_OUTPUTS["lakefsDefaultBranch"]


def test_the_cluster_gone_opt_in_of_pulumi_kubernetes_stays_available_at_destroy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pulumi-kubernetes reads PULUMI_K8S_DELETE_UNREACHABLE at destroy time only if the program
    # never stored `deleteUnreachable` in the provider's inputs.
    monkeypatch.delenv("PULUMI_K8S_DELETE_UNREACHABLE", raising=False)
    provider = sandbox_run(BASE).one("pulumi:providers:kubernetes")
    assert provider.inputs.get("deleteUnreachable") is None


def test_the_namespace_enforces_the_baseline_pod_security_standard_at_the_clusters_version() -> None:
    run = sandbox_run({**BASE, "sandbox:kubernetes": {"version": "1.32"}})
    labels = run.one("kubernetes:core/v1:Namespace").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.32"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_the_discard_setting_is_an_output_for_gc() -> None:
    assert sandbox_run(BASE).outputs["discardUncommitted"] is False
    assert sandbox_run({**BASE, "sandbox:discardUncommitted": True}).outputs["discardUncommitted"] is True
