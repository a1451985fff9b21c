"""What only the Helm-chart components need: security contexts rendered as chart values.

Charts take ``podSecurityContext``/``securityContext`` as plain camelCase dicts, not as the
``pulumi_kubernetes`` Args that :mod:`components.k8s.security` builds for objects we declare
ourselves. Labels, resources, names and Secrets come from :mod:`components.k8s`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
