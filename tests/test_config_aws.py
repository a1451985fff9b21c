"""The ``tier:aws`` config model: the example overlay is complete and valid; bad values name their key."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from components.config.aws import AwsRdsConfig, AwsTierConfig, rds_engine_version_problem
from components.config.model import ConfigModel, problems_from_validation
from tests.conftest import PROJECT_ROOT

EXAMPLE = yaml.safe_load((PROJECT_ROOT / "stacks" / "aws.example.yaml").read_text())["config"]


class _TierWithAws(ConfigModel):
    """Stands in for TierConfig, which nests this model as ``tier:aws``."""

    aws: AwsTierConfig


def problems(aws: dict[str, Any]) -> dict[str, str]:
    try:
        _TierWithAws.model_validate({"aws": aws})
    except ValidationError as error:
        return {p.key: p.message for p in problems_from_validation("tier", _TierWithAws, error, set())}
    return {}


def example(**changes: Any) -> dict[str, Any]:
    aws: dict[str, Any] = copy.deepcopy(EXAMPLE["tier:aws"])
    aws.update(changes)
    return aws


def test_example_overlay_is_valid_and_sets_every_key() -> None:
    config = AwsTierConfig.model_validate(EXAMPLE["tier:aws"])
    assert set(EXAMPLE["tier:aws"]) == set(AwsTierConfig.accepted_keys())
    assert set(EXAMPLE["tier:aws"]["rds"]) == set(AwsRdsConfig.accepted_keys())
    assert EXAMPLE["tier:platform"] == "aws"
    assert EXAMPLE["aws:region"]
    assert config.rds.multi_az is True


def test_optional_keys_have_safe_defaults() -> None:
    minimal = {
        k: EXAMPLE["tier:aws"][k]
        for k in ("vpcId", "subnetIds", "clusterOidcProviderArn", "clusterOidcIssuerUrl", "bucketPrefix")
    }
    config = AwsTierConfig.model_validate({**minimal, "allowedSecurityGroupIds": ["sg-0123456789abcdef0"]})
    assert config.kms_key_arn is None
    assert config.bucket_versioning is True
    assert config.rds.deletion_protection is True
    assert config.rds.backup_retention_days >= 1


@pytest.mark.parametrize(
    ("changes", "key", "says"),
    [
        ({"vpcId": "vpc-xyz"}, "tier:aws.vpcId", "VPC id"),
        ({"subnetIds": ["subnet-0123456789abcdef0"]}, "tier:aws.subnetIds", "at least 2"),
        ({"subnetIds": ["subnet-0123456789abcdef0", "sub-1"]}, "tier:aws.subnetIds[1]", "subnet id"),
        (
            {"subnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef0"]},
            "tier:aws.subnetIds",
            "duplicates",
        ),
        ({"clusterOidcProviderArn": "arn:aws:iam::123:role/x"}, "tier:aws.clusterOidcProviderArn", "OIDC"),
        (
            {"clusterOidcIssuerUrl": "http://oidc.eks.example.com/id/X"},
            "tier:aws.clusterOidcIssuerUrl",
            "https",
        ),
        ({"allowedCidrs": ["0.0.0.0/0"]}, "tier:aws.allowedCidrs[0]", "/0"),
        ({"allowedCidrs": ["::/0"]}, "tier:aws.allowedCidrs[0]", "/0"),
        ({"allowedSecurityGroupIds": ["default"]}, "tier:aws.allowedSecurityGroupIds[0]", "security group"),
        ({"kmsKeyArn": "alias/my-key"}, "tier:aws.kmsKeyArn", "KMS key ARN"),
        ({"bucketPrefix": "Pipeline_Sandbox"}, "tier:aws.bucketPrefix", "lowercase"),
        ({"bucketPrefix": "x" * 38}, "tier:aws.bucketPrefix", "3-37"),
        ({"noncurrentVersionRetentionDays": 0}, "tier:aws.noncurrentVersionRetentionDays", "greater than"),
        ({"tags": {"aws:owner": "me"}}, "tier:aws.tags", "aws:"),
        ({"bucketName": "x"}, "tier:aws.bucketName", "unknown key"),
        ({"rds": {"backupRetentionDays": 0}}, "tier:aws.rds.backupRetentionDays", "greater than"),
        ({"rds": {"instanceClass": "m5.large"}}, "tier:aws.rds.instanceClass", "db.t4g.medium"),
        ({"rds": {"storageGb": 10}}, "tier:aws.rds.storageGb", "greater than"),
        ({"rds": {"multiAZ": True}}, "tier:aws.rds.multiAZ", "multiAz"),
    ],
)
def test_bad_values_are_refused_by_key_name(changes: dict[str, Any], key: str, says: str) -> None:
    found = problems(example(**changes))
    assert key in found, found
    assert says in found[key]


def test_cross_field_rules_name_the_keys_involved() -> None:
    found = problems(example(allowedSecurityGroupIds=[], allowedCidrs=[]))
    assert "allowedSecurityGroupIds or allowedCidrs" in found["tier:aws"]
    other_cluster = "https://oidc.eks.eu-west-1.amazonaws.com/id/OTHERCLUSTER"
    found = problems(example(clusterOidcIssuerUrl=other_cluster))
    assert "same cluster" in found["tier:aws"]
    found = problems(example(rds={"storageGb": 100, "maxStorageGb": 50}))
    assert "maxStorageGb" in found["tier:aws.rds"]


def test_every_problem_is_reported_at_once() -> None:
    found = problems(example(vpcId="nope", bucketPrefix="UPPER", rds={"multiAz": "sometimes"}))
    assert {"tier:aws.vpcId", "tier:aws.bucketPrefix", "tier:aws.rds.multiAz"} <= set(found)


@pytest.mark.parametrize(
    ("version", "ok"), [("16.4", True), ("17.2", True), ("16", False), ("16.4-alpine", False)]
)
def test_rds_engine_version_is_major_dot_minor(version: str, ok: bool) -> None:
    # For the lead's TierConfig rule on tier:versions.postgres when the platform is aws.
    assert (rds_engine_version_problem(version) is None) is ok
