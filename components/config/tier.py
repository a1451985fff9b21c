"""Configuration of a shared-tier stack (namespace ``tier``): dev, stage or prod."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from components.config.aws import AwsTierConfig
from components.config.errors import ConfigProblem
from components.config.kubernetes import KubernetesConfig, Quantity
from components.config.mirror import ChartSources, ImageSettings
from components.config.model import ConfigModel

HTTP_URL = r"^https?://[^\s/]+(/.*)?$"
"""An http(s) URL with a host: what lakeFS endpoints must look like, in config and in tier outputs."""
# Chart versions, image tags: 1.84.0, 4.0.1, RELEASE.2025-04-22T22-12-26Z, 16.4-alpine.
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$")


class Environment(StrEnum):
    DEV = "dev"
    STAGE = "stage"
    PROD = "prod"


class Platform(StrEnum):
    LOCAL = "local"
    AWS = "aws"


def _version(value: str) -> str:
    if not _VERSION.match(value) or value == "latest":
        raise ValueError(f"expected a pinned version such as 1.84.0 (not 'latest'), got {value!r}")
    return value


Version = Annotated[str, AfterValidator(_version)]

MIN_POSTGRES_MAJOR = 15
"""Oldest Postgres the database bootstrap Job supports (its script uses psql's ``\\getenv``)."""


def postgres_version(value: str) -> str:
    """``value`` if it names Postgres 15 or newer (``16.4``, ``17``, ``16.4-alpine``); raises otherwise."""
    major = re.match(r"^(\d+)", value)
    if major is None or int(major.group(1)) < MIN_POSTGRES_MAJOR:
        raise ValueError(f"expected Postgres {MIN_POSTGRES_MAJOR} or newer, such as 16.4, got {value!r}")
    return value


def hive_version(value: str) -> str:
    """``value`` if it is an apache/hive 4.x or newer tag (``4.0.1``): the first with a standalone
    metastore service; raises otherwise."""
    major = re.match(r"^(\d+)\.", value)
    if major is None or int(major.group(1)) < 4:
        raise ValueError(f"the metastore needs apache/hive 4.x or newer, got {value!r}")
    return value


class TierVersions(ConfigModel):
    """The pinned version of every shared-tier component; what the stage-first gate compares."""

    lakefs: Version = Field(description="lakeFS server image tag")
    lakefs_chart: Version = Field(description="lakeFS Helm chart version")
    dagster: Version = Field(description="Dagster Helm chart and image version")
    metastore: Annotated[Version, AfterValidator(hive_version)] = Field(
        description="apache/hive image tag of the standalone metastore, 4 or newer"
    )
    postgres: Annotated[Version, AfterValidator(postgres_version)] = Field(
        description="Postgres image tag (local) or engine version (aws), 15 or newer"
    )
    minio: Version = Field(description="MinIO image tag (local platform)")


# What lakeFS accepts as a storage namespace (`pkg/validator`), with something after the scheme.
STORAGE_NAMESPACE = r"^(s3|gs|https?|mem|local|transient)://\S+$"
LAKEFS_KEY_PAIR = ("accessKeyId", "secretAccessKey")
"""The `tier:lakefs` keys that take an existing lakeFS's admin key pair; both must be secrets."""
LAKEFS_SETTINGS = {
    "name": "tier:lakefs.repository",
    "storageNamespace": "tier:lakefs.storageNamespace",
    "defaultBranch": "tier:lakefs.defaultBranch",
    **{key: f"tier:lakefs.{key}" for key in LAKEFS_KEY_PAIR},
}
"""The settings the tier's lakeFS resource inputs come from (by input name), named in their refusals."""


def _access_key_id(value: str) -> str:
    # No value in the message: this key is secret config.
    if not value or any(c.isspace() or c == ":" for c in value):
        raise ValueError("expected an access key id without spaces or ':' (e.g. AKIAIOSFODNN7EXAMPLE)")
    return value


def _secret_access_key(value: str) -> str:
    if not value.strip():
        raise ValueError("expected the secret access key of that access key id, not an empty value")
    return value


class LakeFSTierConfig(ConfigModel):
    """The lakeFS server and the pipeline repository it serves.

    By default the tier generates lakeFS's admin key pair and sets lakeFS up with it, and the
    repository lives in the tier's object store. To adopt a lakeFS that is already set up, give its
    admin key pair (`accessKeyId`, `secretAccessKey`, as secrets); to adopt an existing repository
    there, give its `storageNamespace` too.
    """

    repository: str = Field(
        default="pipeline", pattern=r"^[a-z0-9][a-z0-9-]{2,62}$", description="repository name"
    )
    default_branch: str = Field(
        default="main", pattern=r"^\w[-\w]*$", description="the repository's protected production branch"
    )
    endpoint: str = Field(
        default="http://127.0.0.1:8000",
        pattern=HTTP_URL,
        description="URL this machine reaches lakeFS at during `pulumi up` (ingress, or a port-forward)",
    )
    replicas: int = Field(default=1, ge=1, le=10, description="lakeFS server replicas")
    access_key_id: Annotated[str, AfterValidator(_access_key_id)] | None = Field(
        default=None,
        description="admin access key id of a lakeFS already set up (secret); in place of the generated one",
    )
    secret_access_key: Annotated[str, AfterValidator(_secret_access_key)] | None = Field(
        default=None, description="its secret access key (secret)"
    )
    storage_namespace: str | None = Field(
        default=None,
        pattern=STORAGE_NAMESPACE,
        description="storage namespace of an existing repository to adopt; default: the tier's object store",
    )

    @model_validator(mode="after")
    def _key_pair_complete(self) -> LakeFSTierConfig:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError(
                "tier:lakefs.accessKeyId and tier:lakefs.secretAccessKey go together: set both (the "
                "admin key pair of a lakeFS already set up) or neither (the tier generates one)"
            )
        return self


def plain_key_pair_problems(lakefs_values: object, secret_keys: set[str]) -> list[ConfigProblem]:
    """One problem per `tier:lakefs` key-pair key that is set but not as a secret.

    The engine marks a structured key secret as a whole once any of its values is a secret, so
    `tier:lakefs` must be a secret key whenever it holds the key pair.

    Args:
        lakefs_values: The decoded value of `tier:lakefs`, as the engine handed it over.
        secret_keys: The `namespace:key` names whose values are secrets.
    """
    if not isinstance(lakefs_values, dict) or "tier:lakefs" in secret_keys:
        return []
    return [
        ConfigProblem(
            f"tier:lakefs.{key}",
            f"must be set as a secret, not in plain text: `pulumi config set --secret --path "
            f"tier:lakefs.{key} <value>`",
        )
        for key in LAKEFS_KEY_PAIR
        if key in lakefs_values
    ]


class DagsterTierConfig(ConfigModel):
    """The production pipeline's code location, which sandboxes replace with their branch's build."""

    code_image_repository: str = Field(
        default="ghcr.io/example/pipeline",
        pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$",
        description="image repository (no tag) the pipeline's CI pushes one tag per commit to",
    )
    code_image_tag: str = Field(
        default="main", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", description="tag prod runs"
    )
    module: str = Field(
        default="pipeline.definitions",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$",
        description="Python module holding the pipeline's Dagster Definitions",
    )


class StorageSizes(ConfigModel):
    """Volume sizes of the local platform's stateful pieces; they grow dev -> prod in the stack files."""

    postgres_volume: Quantity = Field(default="5Gi", description="local Postgres volume")
    object_store_volume: Quantity = Field(default="20Gi", description="local MinIO volume")


class TierConfig(ConfigModel):
    """Every ``tier:*`` key."""

    environment: Environment = Field(description="which shared tier this stack is")
    versions: TierVersions = Field(description="pinned component versions")
    platform: Platform = Field(default=Platform.LOCAL, description="where the data plane runs")
    promote_from: str | None = Field(
        default=None, description="stack whose running versions bound this one's (prod: stage)"
    )
    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig, description="cluster access")
    namespace: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        description="namespace of the tier's workloads; default pipeline-<environment>",
    )
    protect: bool = Field(default=False, description="protect every stateful resource from deletion")
    lakefs: LakeFSTierConfig = Field(default_factory=LakeFSTierConfig, description="lakeFS settings")
    dagster: DagsterTierConfig = Field(default_factory=DagsterTierConfig, description="code location")
    sizes: StorageSizes = Field(default_factory=StorageSizes, description="sizes and retention")
    aws: AwsTierConfig | None = Field(default=None, description="aws platform settings (required there)")
    charts: ChartSources = Field(default_factory=ChartSources, description="where the Helm charts come from")
    images: ImageSettings = Field(default_factory=ImageSettings, description="image registry mirror")

    @model_validator(mode="after")
    def _platform_settings_match(self) -> TierConfig:
        if self.platform is Platform.AWS and self.aws is None:
            raise ValueError("tier:aws is required when tier:platform is aws; see stacks/aws.example.yaml")
        if self.platform is Platform.LOCAL and self.aws is not None:
            raise ValueError("tier:aws applies only when tier:platform is aws")
        return self

    @property
    def resolved_namespace(self) -> str:
        return self.namespace or f"pipeline-{self.environment.value}"
