"""Kubernetes settings shared by tier and sandbox stacks, and Kubernetes value formats."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from components.config.model import ConfigModel

_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_K8S_VERSION = re.compile(r"^v?1\.[0-9]{1,2}$")


def _quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise ValueError(f"expected a Kubernetes quantity such as 500m, 2, 512Mi or 20Gi, got {value!r}")
    return value


def _k8s_version(value: str) -> str:
    if not _K8S_VERSION.match(value):
        raise ValueError(f"expected a Kubernetes minor version such as 1.31, got {value!r}")
    return value.removeprefix("v")


Quantity = Annotated[str, AfterValidator(_quantity)]


class KubernetesConfig(ConfigModel):
    """How the program reaches the cluster. The provider is always explicit, never the ambient default."""

    context: str | None = Field(
        default=None,
        description="kubeconfig context to deploy to; unset means the kubeconfig's current context",
    )
    kubeconfig: str | None = Field(
        default=None, description="path to a kubeconfig file; unset means KUBECONFIG or ~/.kube/config"
    )
    render_to: str | None = Field(
        default=None,
        description="write manifests to this directory (for GitOps tools) instead of applying them",
    )
    version: Annotated[str, AfterValidator(_k8s_version)] = Field(
        default="1.33", description="Kubernetes minor version the manifests must be valid for"
    )
