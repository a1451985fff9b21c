"""The sandbox's place in the cluster: its namespace, resource caps and network isolation."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.config.sandbox import QuotaConfig

ANNOTATION_PREFIX = "pipeline-sandbox.io"


@dataclass(frozen=True)
class SandboxPlaceArgs:
    """Inputs of :class:`SandboxPlace`."""

    namespace: str
    labels: dict[str, str]
    """Identity labels (sanitised values) put on the namespace."""
    annotations: dict[str, pulumi.Input[str]]
    """Exact identity (git branch, commit, owner, expiry), which label values cannot hold."""
    quota: QuotaConfig


class SandboxPlace(pulumi.ComponentResource):
    """Namespace, ResourceQuota, LimitRange and a same-namespace-only ingress NetworkPolicy."""

    namespace: pulumi.Output[str]
    """Name of the namespace, resolving only once it exists with its quota, limits and network policy.

    Everything in the sandbox takes its namespace from here, so the dependency travels with the
    value into nested components (``depends_on`` on a component does not reach its children), and
    no pod is admitted before the LimitRange defaults and quota are in force."""

    def __init__(self, name: str, args: SandboxPlaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-sandbox:sandbox:SandboxPlace", name, None, opts)
        self._args = args
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.namespace, labels=args.labels, annotations=args.annotations
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._namespace_name = namespace.metadata.name
        child = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        guards = [
            self._create_quota(name, child),
            self._create_limits(name, child),
            self._create_network_policy(name, child),
        ]
        self.namespace = pulumi.Output.all(self._namespace_name, *[g.id for g in guards]).apply(
            lambda values: str(values[0])
        )
        self.register_outputs({"namespace": self.namespace})

    def _metadata(self, name: str) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=self._namespace_name, labels=self._args.labels)

    def _create_quota(self, name: str, opts: pulumi.ResourceOptions) -> k8s.core.v1.ResourceQuota:
        quota = self._args.quota
        return k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=self._metadata("sandbox-quota"),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(
                hard={
                    "requests.cpu": quota.cpu,
                    "requests.memory": quota.memory,
                    # Limits may burst to twice the requests; the quota caps the namespace's sum.
                    "limits.memory": _double(quota.memory),
                    "pods": str(quota.pods),
                    "requests.storage": quota.storage,
                    "persistentvolumeclaims": "10",
                    "services.loadbalancers": "0",
                    "services.nodeports": "0",
                }
            ),
            opts=opts,
        )

    def _create_limits(self, name: str, opts: pulumi.ResourceOptions) -> k8s.core.v1.LimitRange:
        quota = self._args.quota
        return k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=self._metadata("sandbox-limits"),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                limits=[
                    k8s.core.v1.LimitRangeItemArgs(
                        type="Container",
                        default_request={"cpu": quota.default_cpu, "memory": quota.default_memory},
                        default={"memory": _double(quota.default_memory)},
                    )
                ]
            ),
            opts=opts,
        )

    def _create_network_policy(
        self, name: str, opts: pulumi.ResourceOptions
    ) -> k8s.networking.v1.NetworkPolicy:
        # Ingress only from pods of this namespace: other sandboxes and the tier cannot reach in.
        # Egress stays open: pods need lakeFS and the metastore in the tier namespace, and the
        # Kubernetes API for launching runs.
        return k8s.networking.v1.NetworkPolicy(
            f"{name}-isolation",
            metadata=self._metadata("sandbox-isolation"),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Ingress"],
                ingress=[
                    k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        from_=[
                            k8s.networking.v1.NetworkPolicyPeerArgs(
                                pod_selector=k8s.meta.v1.LabelSelectorArgs()
                            )
                        ]
                    )
                ],
            ),
            opts=opts,
        )


def _double(quantity: str) -> str:
    """Twice a Kubernetes quantity, keeping its unit (``8Gi`` -> ``16Gi``, ``500m`` -> ``1000m``)."""
    number = quantity.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    unit = quantity[len(number) :]
    doubled = float(number) * 2
    return f"{int(doubled) if doubled.is_integer() else doubled}{unit}"
