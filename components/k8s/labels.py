"""The recommended ``app.kubernetes.io/*`` labels, the same on every object the project creates."""

from __future__ import annotations

from collections.abc import Mapping

PART_OF = "pipeline-sandbox"


def selector_labels(app: str, component: str, instance: str) -> dict[str, str]:
    """Labels that identify one workload's pods; stable for the workload's life (selectors are immutable).

    Args:
        app: the application, e.g. ``postgres``.
        component: its role in the architecture, e.g. ``database``.
        instance: the Pulumi component's name, so two instances in one namespace never select each
            other's pods.
    """
    return {
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/component": component,
    }


def standard_labels(app: str, component: str, instance: str) -> dict[str, str]:
    """Selector labels plus ``part-of`` and ``managed-by``; put these on every object's metadata."""
    return {
        **selector_labels(app, component, instance),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def cloud_tags(extra: Mapping[str, str]) -> dict[str, str]:
    """The project's ownership tags for cloud resources (AWS), with a stack's own tags on top."""
    return {"app.kubernetes.io/part-of": PART_OF, "managed-by": "pulumi", **extra}
