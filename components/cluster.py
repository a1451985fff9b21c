"""The explicit Kubernetes provider every stack deploys through; never the ambient default."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components.config.kubernetes import KubernetesConfig


def kubernetes_provider(
    name: str,
    config: KubernetesConfig,
    gate: pulumi.Output[object] | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> k8s.Provider:
    """A provider for the configured kubeconfig context, or one that renders manifests to a directory.

    Args:
        name: resource name of the provider.
        config: the stack's ``*:kubernetes`` settings.
        gate: an Output that must resolve before the provider exists; when it fails (e.g. the
            stage-first version gate), no Kubernetes resource can be registered at all.
        opts: resource options.
    """
    context: pulumi.Input[str] | None = config.context
    if gate is not None and config.context is not None:
        chosen: str = config.context
        context = gate.apply(lambda _: chosen)
    elif gate is not None:
        # No context chosen: gate on the kubeconfig's current context by an empty value, which
        # the provider reads as "use current-context".
        context = gate.apply(lambda _: "")
    kubeconfig = str(Path(config.kubeconfig).expanduser()) if config.kubeconfig else None
    return k8s.Provider(
        name,
        context=context,
        kubeconfig=kubeconfig,
        render_yaml_to_directory=config.render_to,
        # Server-side apply keeps field ownership explicit when other controllers touch our objects.
        enable_server_side_apply=True,
        opts=opts,
    )
