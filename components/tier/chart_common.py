"""What only the Helm-chart components need: security contexts rendered as chart values, and where
the Chart resource finds its chart.

Charts take ``podSecurityContext``/``securityContext`` as plain camelCase dicts, not as the
``pulumi_kubernetes`` Args that :mod:`components.k8s.security` builds for objects we declare
ourselves. Labels, resources, names and Secrets come from :mod:`components.k8s`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.charts import ChartLocation


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


def chart_source_args(location: ChartLocation | pulumi.Output[ChartLocation]) -> dict[str, Any]:
    """``chart`` and ``repository_opts`` of a ``helm.v4.Chart`` for ``location``.

    A chart repository goes in ``repository_opts.repo`` with the chart's name as ``chart``; OCI
    references, archive URLs and local paths are the ``chart`` itself. A sandbox learns its tier's
    location only as an Output, so both inputs may be Outputs.
    """
    if isinstance(location, ChartLocation):
        repo = location.repository
        return {
            "chart": location.chart,
            "repository_opts": k8s.helm.v4.RepositoryOptsArgs(repo=repo) if repo else None,
        }
    return {
        "chart": location.apply(lambda resolved: resolved.chart),
        "repository_opts": k8s.helm.v4.RepositoryOptsArgs(
            repo=location.apply(lambda resolved: resolved.repository)
        ),
    }
