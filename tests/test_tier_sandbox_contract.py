"""A sandbox builds on what a real tier stack exports, not only on hand-written sample outputs."""

from __future__ import annotations

from typing import Any

import pytest

from components.sandbox.tier_link import PLAIN_OUTPUTS, SECRET_OUTPUTS, contract_problems
from tests.conftest import ProgramRun, SecretValue
from tests.sandbox_support import PROD_TIER, sandbox_run
from tests.tier_support import aws_overlay, tier_run

SANDBOX = {
    "sandbox:branch": "feature/orders",
    "sandbox:owner": "alice@example.com",
    "sandbox:image": "registry.example.com/pipeline:7",
}


def as_stack_reference(run: ProgramRun) -> dict[str, Any]:
    """The tier's outputs as a StackReference hands them to another stack."""
    return {
        name: SecretValue(value) if name in run.secret_outputs else value
        for name, value in run.outputs.items()
    }


@pytest.mark.parametrize(
    ("stack", "config"), [("dev", {}), ("prod", {}), ("prod", {**aws_overlay(), "tier:platform": "aws"})]
)
def test_every_tier_stack_exports_the_whole_contract_a_sandbox_checks(
    stack: str, config: dict[str, Any]
) -> None:
    run = tier_run(stack, config)
    plain = {k: v for k, v in run.outputs.items() if k not in run.secret_outputs}
    secret = {k: v for k, v in run.outputs.items() if k in run.secret_outputs}
    assert contract_problems(stack, plain, PLAIN_OUTPUTS, show_values=True) == []
    assert contract_problems(stack, secret, SECRET_OUTPUTS, show_values=False) == []


def test_a_sandbox_deploys_on_the_outputs_of_the_prod_tier_program() -> None:
    tier = tier_run("prod")
    sandbox = sandbox_run(SANDBOX, tier_outputs={PROD_TIER: as_stack_reference(tier)})
    chart = sandbox.one("kubernetes:helm.sh/v4:Chart")
    assert chart.inputs["version"] == tier.outputs["versions"]["dagster"]
    location = chart.inputs["values"]["dagster-user-deployments"]["deployments"][0]
    assert location["env"]["LAKEFS_ENDPOINT"] == tier.outputs["lakefsInternalEndpoint"]
    seed = sandbox.one("kubernetes:batch/v1:Job", "sandbox-catalog-seed")
    env = {e["name"]: e.get("value") for e in seed.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["SOURCE_HOST"] == tier.outputs["metastoreDatabase"]["host"]
    assert env["SOURCE_DATABASE"] == tier.outputs["metastoreDatabase"]["name"]
    assert location["env"]["HIVE_METASTORE_URI"].startswith("thrift://metastore.sbx-")
    assert location["dagsterApiGrpcArgs"] == ["--module-name", tier.outputs["codeModule"]]
    branch = sandbox.one("pulumi-python:dynamic/lakefs:Branch")
    assert branch.inputs["repository"] == tier.outputs["lakefsRepository"]
    assert branch.inputs["sourceRef"] == tier.outputs["lakefsDefaultBranch"]
