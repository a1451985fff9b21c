"""Configuration of a shared-tier stack (namespace ``tier``): dev, stage or prod."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from components.config.kubernetes import KubernetesConfig
from components.config.model import ConfigModel

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


class TierVersions(ConfigModel):
    """The pinned version of every shared-tier component; what the stage-first gate compares."""

    lakefs: Version = Field(description="lakeFS server image tag")
    lakefs_chart: Version = Field(description="lakeFS Helm chart version")
    dagster: Version = Field(description="Dagster Helm chart and image version")
    metastore: Version = Field(description="apache/hive image tag of the standalone metastore")
    postgres: Version = Field(description="Postgres image tag (local) or engine version (aws)")
    minio: Version = Field(description="MinIO image tag (local platform)")


class TierConfig(ConfigModel):
    """Every ``tier:*`` key."""

    environment: Environment = Field(description="which shared tier this stack is")
    versions: TierVersions = Field(description="pinned component versions")
    platform: Platform = Field(default=Platform.LOCAL, description="where the data plane runs")
    promote_from: str | None = Field(
        default=None, description="stack whose running versions bound this one's (prod: stage)"
    )
    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig, description="cluster access")
