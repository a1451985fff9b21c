"""S3ObjectStore: the lakeFS bucket is private, encrypted and TLS-only; only lakeFS's IRSA role may use it."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.tier.aws_storage import S3ObjectStore, S3ObjectStoreArgs
from tests.conftest import ProgramRun, run_under_mocks

# pulumi_aws warns about its own deprecated v2 aliases when the package registers its resource modules.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pulumi_aws")

BUCKET = "pipeline-sandbox-dev-20260101abcdef"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
PROVIDER_ARN = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE_ARN = "arn:aws:iam::123456789012:role/store-lakefs-role-1234"

ARGS = S3ObjectStoreArgs(
    bucket_prefix="pipeline-sandbox-dev-",
    oidc_provider_arn=PROVIDER_ARN,
    oidc_issuer_url=f"https://{ISSUER}",
    lakefs_namespace="tier-dev",
    lakefs_service_account="lakefs",
)
# What AWS computes and the mocks cannot: the generated bucket name and the ARNs.
COMPUTED = {
    "aws:s3/bucket:Bucket": lambda _: {"bucket": BUCKET, "arn": BUCKET_ARN},
    "aws:iam/role:Role": lambda _: {"arn": ROLE_ARN},
}
BUCKET_TYPE = "aws:s3/bucket:Bucket"


def deploy(**changes: Any) -> ProgramRun:
    args = dataclasses.replace(ARGS, **changes)

    def program() -> None:
        provider = aws.Provider("aws", region="eu-west-1")
        store = S3ObjectStore("store", args, pulumi.ResourceOptions(provider=provider))
        pulumi.export("bucket", store.bucket)
        pulumi.export("bucket_arn", store.bucket_arn)
        pulumi.export("lakefs_role_arn", store.lakefs_role_arn)
        pulumi.export("storage_namespace", store.storage_namespace)

    return run_under_mocks(program, computed=COMPUTED)


def policy(run: ProgramRun, type_: str, key: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(run.one(type_).inputs[key])
    return document


def test_outputs_name_the_bucket_role_and_storage_namespace() -> None:
    run = deploy()
    assert run.outputs == {
        "bucket": BUCKET,
        "bucket_arn": BUCKET_ARN,
        "lakefs_role_arn": ROLE_ARN,
        "storage_namespace": f"s3://{BUCKET}/lakefs",
    }


def test_bucket_uses_prefix_is_never_force_destroyed_and_protected_when_asked() -> None:
    bucket = deploy(protect=True).one(BUCKET_TYPE)
    assert bucket.inputs["bucketPrefix"] == "pipeline-sandbox-dev-"
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.protect
    assert not deploy().one(BUCKET_TYPE).protect


def test_every_child_uses_the_explicit_provider_and_the_component_as_parent() -> None:
    run = deploy(versioning=True, kms_key_arn=KMS_KEY)
    children = [r for r in run.resources if r.custom and r.type != "pulumi:providers:aws"]
    assert len(children) == 9
    for child in children:
        assert child.parent_name == "store"
        assert "pulumi:providers:aws::aws::" in child.provider


def test_sse_s3_by_default_with_bucket_key() -> None:
    (rule,) = (
        deploy()
        .one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        .inputs["rules"]
    )
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert rule["bucketKeyEnabled"] is True


def test_sse_kms_with_the_given_key() -> None:
    run = deploy(kms_key_arn=KMS_KEY)
    (rule,) = run.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": KMS_KEY,
    }
    assert rule["bucketKeyEnabled"] is True


def test_public_access_fully_blocked_and_acls_disabled() -> None:
    run = deploy()
    block = run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert block["bucket"] == "store-bucket-id"
    for setting in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[setting] is True, setting
    ownership = run.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_bucket_policy_denies_every_request_without_tls() -> None:
    run = deploy()
    (statement,) = policy(run, "aws:s3/bucketPolicy:BucketPolicy", "policy")["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:*"
    assert sorted(statement["Resource"]) == [BUCKET_ARN, f"{BUCKET_ARN}/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert run.one("aws:s3/bucketPolicy:BucketPolicy").inputs["bucket"] == "store-bucket-id"


def test_lakefs_role_trusts_only_the_lakefs_service_account_via_sts_audience() -> None:
    run = deploy()
    (statement,) = policy(run, "aws:iam/role:Role", "assumeRolePolicy")["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{ISSUER}:sub": "system:serviceaccount:tier-dev:lakefs",
            f"{ISSUER}:aud": "sts.amazonaws.com",
        }
    }


def test_lakefs_policy_reaches_only_this_bucket_and_cannot_delete() -> None:
    run = deploy()
    role_policy = run.one("aws:iam/rolePolicy:RolePolicy")
    assert role_policy.inputs["role"] == "store-lakefs-role-id"
    statements = json.loads(role_policy.inputs["policy"])["Statement"]
    resources = {s["Resource"] for s in statements}
    assert resources == {BUCKET_ARN, f"{BUCKET_ARN}/*"}
    actions = [a for s in statements for a in s["Action"]]
    assert all(s["Effect"] == "Allow" for s in statements)
    assert "s3:PutObject" in actions
    assert "s3:ListBucket" in actions
    assert not [a for a in actions if "*" in a or "Delete" in a]


def test_lakefs_policy_may_use_the_kms_key_only_when_one_is_given() -> None:
    plain = json.loads(deploy().one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])["Statement"]
    assert not [s for s in plain if any(a.startswith("kms:") for a in s["Action"])]
    statements = json.loads(
        deploy(kms_key_arn=KMS_KEY).one("aws:iam/rolePolicy:RolePolicy").inputs["policy"]
    )["Statement"]
    (kms,) = [s for s in statements if any(a.startswith("kms:") for a in s["Action"])]
    assert kms["Resource"] == KMS_KEY
    assert sorted(kms["Action"]) == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]


def test_unversioned_bucket_still_aborts_incomplete_uploads() -> None:
    run = deploy()
    assert run.of_type("aws:s3/bucketVersioning:BucketVersioning") == []
    (rule,) = run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}


def test_versioned_bucket_expires_noncurrent_versions_after_retention() -> None:
    run = deploy(versioning=True, noncurrent_version_retention_days=30)
    versioning = run.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    lifecycle = run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    expiring = [r for r in lifecycle.inputs["rules"] if "noncurrentVersionExpiration" in r]
    assert [r["noncurrentVersionExpiration"] for r in expiring] == [{"noncurrentDays": 30}]
    assert expiring[0]["status"] == "Enabled"
    assert versioning.urn in lifecycle.dependencies


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"oidc_issuer_url": f"http://{ISSUER}"}, "https"),
        ({"noncurrent_version_retention_days": 0}, "noncurrent_version_retention_days"),
        ({"storage_prefix": "/lakefs/"}, "storage_prefix"),
    ],
)
def test_args_refuse_unsafe_values(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(ARGS, **changes)
