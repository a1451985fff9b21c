"""Kubernetes object names and in-cluster DNS names."""

from __future__ import annotations

import re

import pulumi

CLUSTER_DOMAIN = "cluster.local"
# DNS-1035 label: what a Service name must be, and therefore the strictest name we derive from.
_DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def check_object_name(name: str, *, room: int = 0, what: str = "") -> str:
    """Returns ``name`` if it can name a Service with ``room`` characters of suffix to spare.

    Args:
        what: the argument ``name`` came from, e.g. ``release_name``; prefixes the error message.

    Raises:
        ValueError: the name is not a DNS-1035 label, or too long for the suffixes derived from it.
    """
    if not _DNS_1035_LABEL.match(name) or len(name) + room > 63:
        prefix = f"{what}: " if what else ""
        raise ValueError(
            f"{prefix}{name!r} cannot name Kubernetes objects: use lower-case letters, digits and '-', start "
            f"with a letter, and at most {63 - room} characters"
        )
    return name


def service_host(service: str, namespace: pulumi.Input[str]) -> pulumi.Output[str]:
    """The fully qualified in-cluster DNS name of ``service`` in ``namespace``."""
    return pulumi.Output.concat(service, ".", namespace, ".svc.", CLUSTER_DOMAIN)
