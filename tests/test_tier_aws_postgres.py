"""RdsPostgres: an encrypted, private, TLS-only RDS server reachable only from the tier cluster."""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.tier.aws_postgres import RdsPostgres, RdsPostgresArgs
from tests.conftest import ProgramRun, run_under_mocks

# pulumi_aws warns about its own deprecated v2 aliases when the package registers its resource modules.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pulumi_aws")

PASSWORD = "Zx9" * 13 + "q"
HOST = "pg-instance-1234.abcdefghijkl.eu-west-1.rds.amazonaws.com"
INSTANCE = "aws:rds/instance:Instance"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
ARGS = RdsPostgresArgs(
    engine_version="16.4",
    vpc_id="vpc-0123456789abcdef0",
    subnet_ids=["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
    allowed_security_group_ids=["sg-0123456789abcdef0"],
)
# What AWS and the random provider compute and the mocks cannot.
COMPUTED = {
    "random:index/randomPassword:RandomPassword": lambda _: {"result": PASSWORD},
    "random:index/randomId:RandomId": lambda _: {"hex": "a1b2c3d4"},
    "aws:rds/subnetGroup:SubnetGroup": lambda a: {"name": f"{a.name}-5f3e"},
    "aws:rds/parameterGroup:ParameterGroup": lambda a: {"name": f"{a.name}-77aa"},
    INSTANCE: lambda _: {"address": HOST},
}


def deploy(**changes: Any) -> ProgramRun:
    args = dataclasses.replace(ARGS, **changes)

    def program() -> None:
        provider = aws.Provider("aws", region="eu-west-1")
        db = RdsPostgres("pg", args, pulumi.ResourceOptions(provider=provider))
        for output in ("host", "port", "admin_username", "admin_password"):
            pulumi.export(output, getattr(db, output))

    return run_under_mocks(program, computed=COMPUTED)


def test_outputs_fit_an_in_cluster_bootstrap_job_and_the_password_stays_secret() -> None:
    run = deploy()
    assert run.outputs == {
        "host": HOST,
        "port": 5432,
        "admin_username": "tier_admin",
        "admin_password": PASSWORD,
    }
    assert run.secret_outputs == {"admin_password"}


def test_instance_is_encrypted_private_pinned_and_uses_iam_auth() -> None:
    instance = deploy().one(INSTANCE).inputs
    assert instance["engine"] == "postgres"
    assert instance["engineVersion"] == "16.4"
    assert instance["autoMinorVersionUpgrade"] is False
    assert instance["storageEncrypted"] is True
    assert instance["publiclyAccessible"] is False
    assert instance["iamDatabaseAuthenticationEnabled"] is True
    assert "kmsKeyId" not in instance


def test_storage_is_encrypted_with_the_given_kms_key() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert deploy(kms_key_arn=key).one(INSTANCE).inputs["kmsKeyId"] == key


def test_admin_password_is_generated_and_only_passed_as_a_secret() -> None:
    run = deploy()
    password = run.one("random:index/randomPassword:RandomPassword").inputs
    assert password["length"] >= 32
    instance = run.one(INSTANCE)
    assert instance.inputs["password"] == PASSWORD
    assert "password" in instance.secret_inputs


def test_instance_lives_in_its_subnet_group_behind_its_security_group() -> None:
    run = deploy()
    subnet_group = run.one("aws:rds/subnetGroup:SubnetGroup")
    assert subnet_group.inputs["subnetIds"] == list(ARGS.subnet_ids)
    instance = run.one(INSTANCE)
    assert instance.inputs["dbSubnetGroupName"] == "pg-subnets-5f3e"
    assert instance.inputs["vpcSecurityGroupIds"] == ["pg-sg-id"]
    assert run.one(SECURITY_GROUP).inputs["vpcId"] == ARGS.vpc_id


def test_ingress_is_postgres_only_from_the_named_sources() -> None:
    group = deploy(allowed_cidrs=["10.20.0.0/16", "fd00:10::/56"]).one(SECURITY_GROUP).inputs
    (rule,) = group["ingress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 5432, 5432)
    assert rule["securityGroups"] == ["sg-0123456789abcdef0"]
    assert rule["cidrBlocks"] == ["10.20.0.0/16"]
    assert rule["ipv6CidrBlocks"] == ["fd00:10::/56"]
    assert group["egress"] == []


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0", "10.0.0.1/8", "not-a-cidr"])
def test_args_refuse_open_or_malformed_ingress(cidr: str) -> None:
    with pytest.raises(ValueError, match=r"CIDR|/0"):
        dataclasses.replace(ARGS, allowed_cidrs=[cidr])


def test_args_refuse_a_server_nobody_can_reach() -> None:
    with pytest.raises(ValueError, match="allowed_cidrs or allowed_security_group_ids"):
        dataclasses.replace(ARGS, allowed_security_group_ids=[])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"engine_version": "16"}, "engine_version"),
        ({"engine_version": "16.4-alpine"}, "engine_version"),
        ({"subnet_ids": ["subnet-0123456789abcdef0"]}, "two"),
        ({"backup_retention_days": 0}, "backup_retention_days"),
        ({"admin_username": "postgres"}, "admin_username"),
    ],
)
def test_args_refuse_unusable_values(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(ARGS, **changes)


def test_parameter_group_forces_tls_for_the_engine_major_version() -> None:
    run = deploy(engine_version="17.2")
    group = run.one("aws:rds/parameterGroup:ParameterGroup").inputs
    assert group["family"] == "postgres17"
    assert {p["name"]: p["value"] for p in group["parameters"]} == {"rds.force_ssl": "1"}
    assert run.one(INSTANCE).inputs["parameterGroupName"] == "pg-params-77aa"


def test_deletion_protection_and_protect_follow_args() -> None:
    guarded = deploy(deletion_protection=True, protect=True).one(INSTANCE)
    assert guarded.inputs["deletionProtection"] is True
    assert guarded.protect
    dev = deploy(deletion_protection=False, protect=False).one(INSTANCE)
    assert dev.inputs["deletionProtection"] is False
    assert not dev.protect


def test_deleting_the_instance_always_leaves_a_final_snapshot_and_backups() -> None:
    instance = deploy().one(INSTANCE).inputs
    assert instance["skipFinalSnapshot"] is False
    assert instance["finalSnapshotIdentifier"] == "pg-final-a1b2c3d4"
    assert instance["deleteAutomatedBackups"] is False


def test_sizes_and_availability_come_from_args() -> None:
    instance = (
        deploy(
            instance_class="db.m7g.large",
            storage_gb=100,
            max_storage_gb=500,
            backup_retention_days=14,
            multi_az=True,
            performance_insights=True,
        )
        .one(INSTANCE)
        .inputs
    )
    assert instance["instanceClass"] == "db.m7g.large"
    assert (instance["allocatedStorage"], instance["maxAllocatedStorage"]) == (100, 500)
    assert instance["backupRetentionPeriod"] == 14
    assert instance["multiAz"] is True
    assert instance["performanceInsightsEnabled"] is True
