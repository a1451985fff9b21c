"""Workload shapes several components share: a ClusterIP Service and a one-replica StatefulSet with a
data volume."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s


def cluster_ip_service(
    resource_name: str,
    *,
    metadata: k8s.meta.v1.ObjectMetaArgs,
    selector: Mapping[str, str],
    ports: Sequence[tuple[str, int]],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Service:
    """A ClusterIP Service exposing each named container port ``(name, port)`` under the same name."""
    return k8s.core.v1.Service(
        resource_name,
        metadata=metadata,
        spec=k8s.core.v1.ServiceSpecArgs(
            type="ClusterIP",
            selector=dict(selector),
            ports=[
                k8s.core.v1.ServicePortArgs(name=name, port=port, target_port=name) for name, port in ports
            ],
        ),
        opts=opts,
    )


def single_replica_statefulset(
    resource_name: str,
    *,
    service_name: str,
    metadata: k8s.meta.v1.ObjectMetaArgs,
    labels: Mapping[str, str],
    selector: Mapping[str, str],
    pod_spec: k8s.core.v1.PodSpecArgs,
    storage_size: str,
    storage_class_name: str | None,
    opts: pulumi.ResourceOptions,
) -> k8s.apps.v1.StatefulSet:
    """One pod with a ``data`` volume (ReadWriteOnce) from a volumeClaimTemplate, mount it yourself."""
    return k8s.apps.v1.StatefulSet(
        resource_name,
        metadata=metadata,
        spec=k8s.apps.v1.StatefulSetSpecArgs(
            service_name=service_name,
            replicas=1,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(selector)),
            # Deleting or scaling the StatefulSet must never take the data with it.
            persistent_volume_claim_retention_policy=(
                k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                    when_deleted="Retain", when_scaled="Retain"
                )
            ),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=dict(labels)), spec=pod_spec
            ),
            volume_claim_templates=[
                k8s.core.v1.PersistentVolumeClaimArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(name="data", labels=dict(labels)),
                    spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                        access_modes=["ReadWriteOnce"],
                        storage_class_name=storage_class_name,
                        resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                            requests={"storage": storage_size}
                        ),
                    ),
                )
            ],
        ),
        opts=opts,
    )
