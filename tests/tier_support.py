"""Shared inputs for tier program tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import PROJECT_ROOT, ProgramRun, run_program
from tests.simulated import SIMULATED

# What AWS would compute for the aws data plane's resources.
AWS_COMPUTED: dict[str, Any] = {
    "aws:s3/bucket:Bucket": lambda a: {"bucket": f"{a.name}-0a1b", "arn": f"arn:aws:s3:::{a.name}-0a1b"},
    "aws:iam/role:Role": lambda a: {"arn": f"arn:aws:iam::123456789012:role/{a.name}"},
    "aws:rds/subnetGroup:SubnetGroup": lambda a: {"name": f"{a.name}-5f3e"},
    "aws:rds/parameterGroup:ParameterGroup": lambda a: {"name": f"{a.name}-77aa"},
    "aws:rds/instance:Instance": lambda a: {"address": "tier.abc.eu-west-1.rds.amazonaws.com", "port": 5432},
    "aws:ec2/securityGroup:SecurityGroup": lambda a: {"id": "sg-0aaaaaaaaaaaaaaaa"},
}
STAGE = "organization/pipeline-sandbox/stage"
PROD = "organization/pipeline-sandbox/prod"


def shipped_versions(stack: str) -> dict[str, str]:
    config = yaml.safe_load((PROJECT_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    return dict(config["tier:versions"])


def aws_overlay() -> dict[str, Any]:
    return dict(yaml.safe_load(Path(PROJECT_ROOT / "stacks" / "aws.example.yaml").read_text())["config"])


def tier_run(
    stack: str,
    config: dict[str, Any] | None = None,
    *,
    stack_outputs: dict[str, dict[str, Any]] | None = None,
) -> ProgramRun:
    """Runs a tier stack; prod reads stage's (and its own last) outputs through StackReferences."""
    if stack_outputs is None:
        stack_outputs = {STAGE: {"versions": shipped_versions("stage")}, PROD: {}}
    return run_program(
        stack, config or {}, stack_outputs=stack_outputs, computed={**SIMULATED, **AWS_COMPUTED}
    )
