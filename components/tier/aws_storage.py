"""S3ObjectStore: the lakeFS bucket on AWS and the IRSA role lakeFS assumes to use it.

Creates a private, encrypted, TLS-only S3 bucket (optionally versioned, with a lifecycle) and an IAM
role that only the lakeFS Kubernetes service account can assume, allowed only the object operations
lakeFS documents on this one bucket. Imports ``pulumi_aws``: import this module only on the aws path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from components.config.aws import issuer_host_path
from components.k8s.labels import cloud_tags

# lakeFS's documented minimal permissions (docs.lakefs.io, "Prepare your AWS S3 bucket"). No
# DeleteObject/DeleteObjectVersion: the lakeFS server does not delete objects (garbage collection is a
# separate job needing its own grant), so a compromised server cannot erase committed history.
LAKEFS_OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
LAKEFS_BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads")
KMS_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
# Parts of abandoned multipart uploads are billed but invisible; lakeFS uploads large objects in parts.
ABORT_INCOMPLETE_UPLOADS_DAYS = 7

if TYPE_CHECKING:
    _SseDefault = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgsDict


@dataclass(frozen=True)
class S3ObjectStoreArgs:
    """Inputs of :class:`S3ObjectStore`.

    Attributes:
        bucket_prefix: Name prefix of the bucket; AWS appends a unique suffix.
        oidc_provider_arn: ARN of the EKS cluster's IAM OIDC provider.
        oidc_issuer_url: The cluster's OIDC issuer URL (``https://...``).
        lakefs_namespace: Kubernetes namespace of the lakeFS service account.
        lakefs_service_account: Name of the lakeFS service account, which must carry the annotation
            ``eks.amazonaws.com/role-arn`` set to :attr:`S3ObjectStore.lakefs_role_arn`.
        kms_key_arn: Customer-managed KMS key for SSE-KMS; None uses SSE-S3 (AES256).
        versioning: Keep previous object versions.
        noncurrent_version_retention_days: Expire previous versions after this many days; None keeps them.
        storage_prefix: Path inside the bucket under which lakeFS repositories live.
        protect: Protect the bucket from ``pulumi destroy`` (true in prod).
        tags: AWS tags for every resource that takes them.
    """

    bucket_prefix: str
    oidc_provider_arn: str
    oidc_issuer_url: str
    lakefs_namespace: pulumi.Input[str]
    lakefs_service_account: pulumi.Input[str]
    kms_key_arn: str | None = None
    versioning: bool = False
    noncurrent_version_retention_days: int | None = None
    storage_prefix: str = "lakefs"
    protect: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.oidc_issuer_url.startswith("https://"):
            raise ValueError(f"oidc_issuer_url must be an https URL, got {self.oidc_issuer_url!r}")
        if self.noncurrent_version_retention_days is not None and self.noncurrent_version_retention_days < 1:
            raise ValueError("noncurrent_version_retention_days must be at least 1 or None")
        if not self.storage_prefix or self.storage_prefix.strip("/") != self.storage_prefix:
            raise ValueError(
                f"storage_prefix must be a path without leading/trailing '/', got {self.storage_prefix!r}"
            )


class S3ObjectStore(pulumi.ComponentResource):
    """The shared tier's object store on AWS: one S3 bucket and lakeFS's IRSA role."""

    bucket: pulumi.Output[str]
    """Name of the bucket."""
    bucket_arn: pulumi.Output[str]
    """ARN of the bucket."""
    lakefs_role_arn: pulumi.Output[str]
    """IAM role for the lakeFS service account's ``eks.amazonaws.com/role-arn`` annotation."""
    storage_namespace: pulumi.Output[str]
    """Base storage namespace for lakeFS repositories: ``s3://<bucket>/<prefix>``."""

    def __init__(
        self, name: str, args: S3ObjectStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pipeline-sandbox:tier:S3ObjectStore", name, None, opts)
        self._name = name
        self._args = args
        self._tags = cloud_tags(args.tags)

        bucket = self._create_bucket()
        self._create_encryption(bucket)
        self._create_versioning_and_lifecycle(bucket)
        access_block = self._create_access_controls(bucket)
        self._create_tls_only_policy(bucket, access_block)
        role = self._create_lakefs_role(bucket)

        self.bucket = bucket.bucket
        self.bucket_arn = bucket.arn
        self.lakefs_role_arn = role.arn
        self.storage_namespace = pulumi.Output.concat("s3://", bucket.bucket, "/", args.storage_prefix)
        self.register_outputs(
            {
                "bucket": self.bucket,
                "bucket_arn": self.bucket_arn,
                "lakefs_role_arn": self.lakefs_role_arn,
                "storage_namespace": self.storage_namespace,
            }
        )

    def _child(self, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **extra)

    def _create_bucket(self) -> aws.s3.Bucket:
        args = self._args
        return aws.s3.Bucket(
            f"{self._name}-bucket",
            bucket_prefix=args.bucket_prefix,
            # Deleting a non-empty bucket must stay a deliberate act outside Pulumi.
            force_destroy=False,
            tags=self._tags,
            opts=self._child(protect=args.protect),
        )

    def _create_encryption(self, bucket: aws.s3.Bucket) -> None:
        key = self._args.kms_key_arn
        default: _SseDefault = (
            {"sse_algorithm": "aws:kms", "kms_master_key_id": key} if key else {"sse_algorithm": "AES256"}
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{self._name}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": default,
                    # Bucket keys cut KMS request costs; harmless under SSE-S3.
                    "bucket_key_enabled": True,
                }
            ],
            opts=self._child(),
        )

    def _create_versioning_and_lifecycle(self, bucket: aws.s3.Bucket) -> None:
        args = self._args
        versioning = None
        if args.versioning:
            # Only declared when on: removing it later suspends versioning, which is what "off" means
            # for a bucket that was once versioned.
            versioning = aws.s3.BucketVersioning(
                f"{self._name}-versioning",
                bucket=bucket.id,
                versioning_configuration={"status": "Enabled"},
                opts=self._child(),
            )
        every_object: aws.s3.BucketLifecycleConfigurationRuleFilterArgsDict = {"prefix": ""}
        rules: list[aws.s3.BucketLifecycleConfigurationRuleArgsDict] = [
            {
                "id": "abort-incomplete-multipart-uploads",
                "status": "Enabled",
                "filter": every_object,
                "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_INCOMPLETE_UPLOADS_DAYS},
            }
        ]
        if args.noncurrent_version_retention_days is not None:
            rules.append(
                {
                    "id": "expire-noncurrent-versions",
                    "status": "Enabled",
                    "filter": every_object,
                    "noncurrent_version_expiration": {
                        "noncurrent_days": args.noncurrent_version_retention_days
                    },
                }
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{self._name}-lifecycle",
            bucket=bucket.id,
            rules=rules,
            # AWS rejects noncurrent-version rules on a bucket whose versioning is still being set.
            opts=self._child(depends_on=[versioning] if versioning else []),
        )

    def _create_access_controls(self, bucket: aws.s3.Bucket) -> aws.s3.BucketPublicAccessBlock:
        # ACLs off: the bucket owner owns every object, so the bucket policy alone decides access.
        aws.s3.BucketOwnershipControls(
            f"{self._name}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=self._child(),
        )
        return aws.s3.BucketPublicAccessBlock(
            f"{self._name}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self._child(),
        )

    def _create_tls_only_policy(
        self, bucket: aws.s3.Bucket, access_block: aws.s3.BucketPublicAccessBlock
    ) -> aws.s3.BucketPolicy:
        policy = pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        )
        # S3 refuses concurrent changes to a bucket's policy and its public access block.
        return aws.s3.BucketPolicy(
            f"{self._name}-policy",
            bucket=bucket.id,
            policy=policy,
            opts=self._child(depends_on=[access_block]),
        )

    def _create_lakefs_role(self, bucket: aws.s3.Bucket) -> aws.iam.Role:
        args = self._args
        issuer = issuer_host_path(args.oidc_issuer_url)
        trust = pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": args.oidc_provider_arn},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringEquals": {
                                f"{issuer}:sub": pulumi.Output.concat(
                                    "system:serviceaccount:",
                                    args.lakefs_namespace,
                                    ":",
                                    args.lakefs_service_account,
                                ),
                                f"{issuer}:aud": "sts.amazonaws.com",
                            }
                        },
                    }
                ],
            }
        )
        role = aws.iam.Role(
            f"{self._name}-lakefs-role",
            description="lakeFS (IRSA): read and write the shared tier's lakeFS bucket",
            assume_role_policy=trust,
            tags=self._tags,
            opts=self._child(),
        )
        aws.iam.RolePolicy(
            f"{self._name}-lakefs-access",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {"Version": "2012-10-17", "Statement": self._lakefs_statements(bucket)}
            ),
            opts=self._child(),
        )
        return role

    def _lakefs_statements(self, bucket: aws.s3.Bucket) -> Sequence[Mapping[str, Any]]:
        statements: list[Mapping[str, Any]] = [
            {
                "Sid": "LakeFSObjects",
                "Effect": "Allow",
                "Action": list(LAKEFS_OBJECT_ACTIONS),
                "Resource": pulumi.Output.concat(bucket.arn, "/*"),
            },
            {
                "Sid": "LakeFSBucket",
                "Effect": "Allow",
                "Action": list(LAKEFS_BUCKET_ACTIONS),
                "Resource": bucket.arn,
            },
        ]
        if self._args.kms_key_arn is not None:
            statements.append(
                {
                    "Sid": "LakeFSBucketKey",
                    "Effect": "Allow",
                    "Action": list(KMS_ACTIONS),
                    "Resource": self._args.kms_key_arn,
                }
            )
        return statements
