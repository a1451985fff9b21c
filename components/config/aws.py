"""Configuration of the ``aws`` platform of a tier stack (key ``tier:aws``): network, IRSA, S3 and RDS.

Pure pydantic: this module never imports ``pulumi_aws``, and no validator touches the network. What
cannot be checked offline (that the subnets span two availability zones, that the KMS key exists, that
the engine version is still offered by RDS) is left to the first ``pulumi preview``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from components.config.model import ConfigModel

_PARTITION = r"aws(-cn|-us-gov)?"
# EC2 ids: 8 hex digits (old) or 17 (current).
_VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
_SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
_SECURITY_GROUP_ID = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
_OIDC_PROVIDER_ARN = re.compile(rf"^arn:{_PARTITION}:iam::[0-9]{{12}}:oidc-provider/(?P<issuer>[^\s]+)$")
_ISSUER_URL = re.compile(r"^https://(?P<issuer>[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%-]+)*)/?$")
# A key ARN (single- or multi-Region key); IAM policies need the key ARN, an alias would not match.
_KMS_KEY_ARN = re.compile(
    rf"^arn:{_PARTITION}:kms:[a-z0-9-]+:[0-9]{{12}}:key/([0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}"
    r"|mrk-[0-9a-f]{32})$"
)
# The provider appends a 26-character suffix to bucket_prefix, and bucket names stop at 63.
_BUCKET_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]{2,36}$")
_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_INSTANCE_CLASS = re.compile(r"^db\.[a-z0-9-]+\.[a-z0-9]+$")
RDS_ENGINE_VERSION = re.compile(r"^(?P<major>[0-9]{2,})\.[0-9]+$")


def _pattern(regex: re.Pattern[str], example: str) -> AfterValidator:
    def check(value: str) -> str:
        if not regex.match(value):
            raise ValueError(f"expected {example}, got {value!r}")
        return value

    return AfterValidator(check)


def _bucket_prefix(value: str) -> str:
    if not _BUCKET_PREFIX.match(value) or value.startswith(_RESERVED_BUCKET_PREFIXES):
        raise ValueError(
            "expected 3-37 lowercase letters, digits or hyphens, starting with a letter or digit "
            f"(the provider appends a unique suffix), such as pipeline-sandbox-dev-, got {value!r}"
        )
    return value


def ingress_cidr_problem(value: str) -> str | None:
    """Why ``value`` may not be a source of database traffic, or None when it may."""
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return f"expected a CIDR block such as 10.0.0.0/16, got {value!r}"
    if network.prefixlen == 0:
        return f"a /0 block opens the database to every address; name the cluster's CIDR, got {value!r}"
    return None


def rds_engine_version_problem(value: str) -> str | None:
    """Why ``value`` is not an RDS Postgres engine version (``<major>.<minor>``), or None."""
    if RDS_ENGINE_VERSION.match(value):
        return None
    return f"expected an RDS Postgres engine version <major>.<minor> such as 16.4, got {value!r}"


def _ingress_cidr(value: str) -> str:
    problem = ingress_cidr_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _unique(values: list[str]) -> list[str]:
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"expected each value once, got duplicates {duplicates}")
    return values


def _tags(tags: dict[str, str]) -> dict[str, str]:
    bad = sorted(k for k, v in tags.items() if k.lower().startswith("aws:") or not 0 < len(k) <= 128)
    bad += sorted(k for k, v in tags.items() if len(v) > 256 and k not in bad)
    if bad:
        raise ValueError(
            f"expected tag keys of 1-128 characters not starting with aws: and values of at most 256, "
            f"got bad tags {bad}"
        )
    return tags


def issuer_host_path(issuer_url: str) -> str:
    """The issuer as IAM condition keys spell it: the URL without ``https://`` and trailing slash."""
    return issuer_url.removeprefix("https://").rstrip("/")


VpcId = Annotated[str, _pattern(_VPC_ID, "a VPC id such as vpc-0123456789abcdef0")]
SubnetId = Annotated[str, _pattern(_SUBNET_ID, "a subnet id such as subnet-0123456789abcdef0")]
SecurityGroupId = Annotated[
    str, _pattern(_SECURITY_GROUP_ID, "a security group id such as sg-0123456789abcdef0")
]
IngressCidr = Annotated[str, AfterValidator(_ingress_cidr)]
KmsKeyArn = Annotated[
    str,
    _pattern(_KMS_KEY_ARN, "a KMS key ARN such as arn:aws:kms:eu-west-1:123456789012:key/<key-id>"),
]


class AwsRdsConfig(ConfigModel):
    """Size and safety of the RDS Postgres server; differs per environment (see stacks/aws.example.yaml)."""

    instance_class: Annotated[
        str, _pattern(_INSTANCE_CLASS, "an RDS instance class such as db.t4g.medium")
    ] = Field(default="db.t4g.medium", description="RDS instance class")
    storage_gb: int = Field(default=20, ge=20, le=65536, description="allocated gp3 storage in GiB")
    max_storage_gb: int | None = Field(
        default=None, le=65536, description="storage autoscaling ceiling in GiB; unset turns autoscaling off"
    )
    backup_retention_days: int = Field(
        default=7, ge=1, le=35, description="days of automated backups (point-in-time recovery window)"
    )
    multi_az: bool = Field(default=False, description="keep a synchronous standby in a second AZ")
    deletion_protection: bool = Field(default=True, description="refuse DeleteDBInstance until turned off")
    performance_insights: bool = Field(default=False, description="Performance Insights, 7 days (free tier)")
    apply_immediately: bool = Field(
        default=False,
        description="apply modifications now instead of in the next maintenance window",
    )

    @model_validator(mode="after")
    def _ceiling_above_storage(self) -> AwsRdsConfig:
        if self.max_storage_gb is not None and self.max_storage_gb <= self.storage_gb:
            raise ValueError(
                f"maxStorageGb must exceed storageGb ({self.storage_gb}) or be unset, "
                f"got {self.max_storage_gb}"
            )
        return self


class AwsTierConfig(ConfigModel):
    """Every key of ``tier:aws``: where the shared tier's S3 bucket and RDS server go on AWS."""

    vpc_id: VpcId = Field(description="VPC of the EKS cluster; the database security group lives here")
    subnet_ids: Annotated[list[SubnetId], AfterValidator(_unique)] = Field(
        min_length=2, description="private subnets in at least two AZs for the RDS subnet group"
    )
    cluster_oidc_provider_arn: Annotated[
        str,
        _pattern(
            _OIDC_PROVIDER_ARN,
            "an IAM OIDC provider ARN such as "
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/<ID>",
        ),
    ] = Field(description="IAM OIDC provider of the EKS cluster (IRSA)")
    cluster_oidc_issuer_url: Annotated[
        str,
        _pattern(_ISSUER_URL, "an https issuer URL such as https://oidc.eks.eu-west-1.amazonaws.com/id/<ID>"),
    ] = Field(description="OIDC issuer URL of the EKS cluster")
    allowed_security_group_ids: Annotated[list[SecurityGroupId], AfterValidator(_unique)] = Field(
        default_factory=list, description="security groups (e.g. the EKS node/cluster group) that reach RDS"
    )
    allowed_cidrs: Annotated[list[IngressCidr], AfterValidator(_unique)] = Field(
        default_factory=list, description="CIDR blocks that reach RDS on 5432 (never /0)"
    )
    kms_key_arn: KmsKeyArn | None = Field(
        default=None, description="customer-managed KMS key for S3 and RDS; unset uses AWS-managed keys"
    )
    bucket_prefix: Annotated[str, AfterValidator(_bucket_prefix)] = Field(
        description="name prefix of the lakeFS bucket"
    )
    bucket_versioning: bool = Field(default=True, description="keep previous object versions")
    noncurrent_version_retention_days: int | None = Field(
        default=None,
        ge=1,
        description="expire previous object versions after this many days; unset keeps them",
    )
    tags: Annotated[dict[str, str], AfterValidator(_tags)] = Field(
        default_factory=dict, description="extra AWS tags on every resource"
    )
    rds: AwsRdsConfig = Field(default_factory=AwsRdsConfig, description="RDS Postgres size and safety")

    @model_validator(mode="after")
    def _network_and_identity_agree(self) -> AwsTierConfig:
        if not self.allowed_security_group_ids and not self.allowed_cidrs:
            raise ValueError(
                "set allowedSecurityGroupIds or allowedCidrs: nothing could reach the database otherwise"
            )
        arn_match = _OIDC_PROVIDER_ARN.match(self.cluster_oidc_provider_arn)
        issuer = issuer_host_path(self.cluster_oidc_issuer_url)
        if arn_match and arn_match.group("issuer") != issuer:
            raise ValueError(
                f"clusterOidcProviderArn names issuer {arn_match.group('issuer')!r} but "
                f"clusterOidcIssuerUrl is {self.cluster_oidc_issuer_url!r}; they must be the same cluster"
            )
        return self
