"""Pieces shared by the Helm-chart components: labels, container sizing, security contexts, Secrets.

The values built here are plain dicts in the Kubernetes API's camelCase, ready to drop into a chart's
values; nothing here declares a resource except :func:`opaque_secret`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

PART_OF = "pipeline-sandbox"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def labels(name: str, component: str) -> dict[str, str]:
    """The four labels every object of the project carries."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def require_dns_label(what: str, value: str, max_length: int = 63) -> str:
    """Returns ``value`` if it is a DNS-1123 label of at most ``max_length`` characters.

    Raises:
        ValueError: it is not; the message names ``what``.
    """
    if len(value) > max_length or not _DNS_LABEL.match(value):
        raise ValueError(
            f"{what}: expected a DNS-1123 label (lower-case letters, digits, '-') of at most "
            f"{max_length} characters, got {value!r}"
        )
    return value


@dataclass(frozen=True)
class ContainerResources:
    """Requests and limits of one container, as Kubernetes quantities."""

    cpu_request: str = "100m"
    memory_request: str = "256Mi"
    cpu_limit: str = "1"
    memory_limit: str = "1Gi"

    def to_values(self) -> dict[str, dict[str, str]]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


@dataclass(frozen=True)
class RunAs:
    """The numeric identity a container runs as.

    Images that name their user (``USER lakefs``) or run as root cannot pass the kubelet's
    ``runAsNonRoot`` check without a number, so every chart gets one explicitly.
    """

    user: int = 1001
    group: int = 1001
    read_only_root_filesystem: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def pod_security_context(self) -> dict[str, Any]:
        return {
            "runAsNonRoot": True,
            "runAsUser": self.user,
            "runAsGroup": self.group,
            "fsGroup": self.group,
            "seccompProfile": {"type": "RuntimeDefault"},
        }

    def container_security_context(self) -> dict[str, Any]:
        return {
            "runAsNonRoot": True,
            "runAsUser": self.user,
            "runAsGroup": self.group,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": self.read_only_root_filesystem,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }


def opaque_secret(
    resource_name: str,
    *,
    name: str,
    namespace: pulumi.Input[str],
    app: str,
    component: str,
    string_data: dict[str, pulumi.Input[str]],
    parent: pulumi.Resource,
) -> k8s.core.v1.Secret:
    """Declares an Opaque Secret whose every value is a Pulumi secret.

    The name is fixed rather than auto-named because chart values refer to it by name.
    """
    return k8s.core.v1.Secret(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=labels(app, component)),
        type="Opaque",
        string_data={key: pulumi.Output.secret(value) for key, value in string_data.items()},
        opts=pulumi.ResourceOptions(parent=parent),
    )
