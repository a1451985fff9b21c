"""Secrets whose values never appear in plain state or in chart values."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s


def opaque_secret(
    resource_name: str,
    *,
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    string_data: Mapping[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Secret:
    """Declares an Opaque Secret whose every value is a Pulumi secret.

    The name is fixed rather than auto-named because chart values and env vars refer to it by name.
    ``opts`` carries the parent and, where the parent has none, the Kubernetes provider.
    """
    return k8s.core.v1.Secret(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=dict(labels)),
        type="Opaque",
        string_data={key: pulumi.Output.secret(value) for key, value in string_data.items()},
        opts=opts,
    )
