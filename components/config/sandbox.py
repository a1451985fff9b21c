"""Configuration of a sandbox stack (namespace ``sandbox``), as the user writes it."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from components.config.durations import Duration
from components.config.kubernetes import KubernetesConfig, Quantity
from components.config.model import ConfigModel
from components.gitref import GIT_BRANCH_RULES, is_valid_git_branch

# org/project/stack, org/stack or stack, each part as Pulumi allows.
_STACK_NAME = re.compile(r"^([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+$")
# registry/path[:tag][@sha256:digest]; a tag or a digest is required so a sandbox is reproducible.
_IMAGE = re.compile(
    r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$"
)
_LAKEFS_REF = re.compile(r"^[A-Za-z0-9_][-A-Za-z0-9_./~^@]*$")
# Hive stores database names in lower case; these need no quoting anywhere.
_HIVE_DATABASE = re.compile(r"^[a-z0-9_]{1,128}$")


class MetastoreMode(StrEnum):
    """Which Hive metastore a sandbox's pipeline code talks to."""

    ISOLATED = "isolated"
    """Its own, seeded from the tier's with locations on the sandbox's branch."""
    SHARED = "shared"
    """The tier's: unsafe for pipelines that create, alter or drop tables or partitions."""
    NONE = "none"
    """None: HIVE_METASTORE_URI is not set."""


def _hive_databases(value: list[str]) -> list[str]:
    bad = [name for name in value if not _HIVE_DATABASE.match(name)]
    if bad or not value or len(set(value)) != len(value):
        raise ValueError(
            "expected a non-empty list of distinct Hive database names (lower-case letters, digits, '_'), "
            f"got {value!r}"
        )
    return value


def _git_branch(value: str) -> str:
    if not is_valid_git_branch(value):
        raise ValueError(f"expected {GIT_BRANCH_RULES}, got {value!r}")
    return value


def _stack_name(value: str) -> str:
    if not _STACK_NAME.match(value):
        raise ValueError(
            f"expected a stack name such as prod, myorg/prod or myorg/pipeline-sandbox/prod, got {value!r}"
        )
    return value


def _image(value: str) -> str:
    pinned = ":" in value.rsplit("/", 1)[-1] or "@sha256:" in value
    if not _IMAGE.match(value) or not pinned or value.endswith(":latest"):
        raise ValueError(
            "expected an image pinned to a tag or digest such as "
            f"registry.example.com/pipeline:3f2c1a9 (not :latest), got {value!r}"
        )
    return value


def _lakefs_ref(value: str) -> str:
    if not _LAKEFS_REF.match(value):
        raise ValueError(f"expected a lakeFS branch, tag or commit id such as main, got {value!r}")
    return value


def _owner(value: str) -> str:
    if not value.strip() or len(value) > 253 or any(ord(c) < 32 for c in value):
        raise ValueError(
            f"expected an owner such as an e-mail address (1-253 printable characters), got {value!r}"
        )
    return value


class QuotaConfig(ConfigModel):
    """Caps on what one sandbox may consume; LimitRange defaults apply to containers that set none."""

    cpu: Quantity = Field(default="8", description="total CPU requests in the namespace")
    memory: Quantity = Field(default="16Gi", description="total memory requests in the namespace")
    pods: int = Field(default=40, gt=0, le=1000, description="maximum number of pods")
    storage: Quantity = Field(default="50Gi", description="total persistent volume claims")
    default_cpu: Quantity = Field(default="250m", description="CPU request of a container that sets none")
    default_memory: Quantity = Field(
        default="512Mi", description="memory request of a container that sets none"
    )


class SandboxConfig(ConfigModel):
    """Every ``sandbox:*`` key. Unset optional keys are filled from git or the tier when resolved."""

    branch: Annotated[str, AfterValidator(_git_branch)] | None = Field(
        default=None, description="git branch of the sandbox; default: the branch checked out in gitDir"
    )
    tier: Annotated[str, AfterValidator(_stack_name)] = Field(
        default="prod", description="tier stack whose data the sandbox snapshots"
    )
    ttl: Duration = Field(default=timedelta(days=7), description="lifetime from first creation")
    owner: Annotated[str, AfterValidator(_owner)] | None = Field(
        default=None, description="who owns the sandbox; default: git user.email"
    )
    image: Annotated[str, AfterValidator(_image)] | None = Field(
        default=None,
        description="code location image; default: the tier's codeImageRepository tagged with the commit",
    )
    source_ref: Annotated[str, AfterValidator(_lakefs_ref)] | None = Field(
        default=None,
        description="lakeFS ref the data snapshot is taken from; default: the tier's default branch",
    )
    discard_uncommitted: bool = Field(
        default=False, description="let destroy drop uncommitted changes on the sandbox's lakeFS branch"
    )
    archive: bool = Field(default=True, description="tag the lakeFS branch head before destroy deletes it")
    schedules: bool = Field(default=False, description="run the code location's schedules")
    sensors: bool = Field(default=False, description="run the code location's sensors")
    paused: bool = Field(
        default=False,
        description="scale the sandbox's Dagster (webserver, daemon, code server) to zero; "
        "the namespace, run storage, lakeFS branch and catalog stay",
    )
    git_dir: str = Field(default=".", description="working tree of the pipeline's git checkout")
    quota: QuotaConfig = Field(default_factory=QuotaConfig, description="namespace resource caps")
    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig, description="cluster access")
    metastore: MetastoreMode = Field(
        default=MetastoreMode.ISOLATED,
        description="isolated (own metastore seeded from the tier's), shared (the tier's; unsafe for "
        "pipelines that change tables) or none",
    )
    metastore_databases: Annotated[list[str], AfterValidator(_hive_databases)] | None = Field(
        default=None, description="Hive databases an isolated metastore is seeded with; default: all"
    )

    @model_validator(mode="after")
    def _databases_need_isolated(self) -> SandboxConfig:
        if self.metastore_databases is not None and self.metastore is not MetastoreMode.ISOLATED:
            raise ValueError(
                "sandbox:metastoreDatabases applies only when sandbox:metastore is isolated, "
                f"not {self.metastore.value}"
            )
        return self
