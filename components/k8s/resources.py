"""Container resource requests and limits, as a small value the Args of every component carry."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pulumi_kubernetes as k8s

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_FACTORS: dict[str | None, Decimal] = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    **{s: Decimal(1000) ** (i + 1) for i, s in enumerate(("k", "M", "G", "T", "P", "E"))},
    **{s: Decimal(1024) ** (i + 1) for i, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))},
}


def quantity(value: str) -> Decimal:
    """The numeric value of a Kubernetes quantity such as ``500m``, ``2`` or ``512Mi``.

    Raises:
        ValueError: not a quantity.
    """
    match = _QUANTITY.match(value)
    if match is None:
        raise ValueError(f"expected a Kubernetes quantity such as 500m, 2 or 512Mi, got {value!r}")
    return Decimal(match.group(1)) * _FACTORS[match.group(2)]


@dataclass(frozen=True)
class ContainerResources:
    """Requests and limits of one container (Kubernetes quantities such as ``250m`` or ``512Mi``)."""

    cpu_request: str = "100m"
    memory_request: str = "128Mi"
    cpu_limit: str = "1"
    memory_limit: str = "512Mi"

    def __post_init__(self) -> None:
        # The API server rejects a pod whose request exceeds its limit; say so at declaration instead.
        for resource, request, limit in (
            ("cpu", self.cpu_request, self.cpu_limit),
            ("memory", self.memory_request, self.memory_limit),
        ):
            if quantity(request) > quantity(limit):
                raise ValueError(f"{resource} request {request} exceeds its limit {limit}")

    def to_values(self) -> dict[str, dict[str, str]]:
        """``{"requests": ..., "limits": ...}``, as a Helm chart's ``resources`` value takes it."""
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }

    def to_args(self) -> k8s.core.v1.ResourceRequirementsArgs:
        values = self.to_values()
        return k8s.core.v1.ResourceRequirementsArgs(requests=values["requests"], limits=values["limits"])
