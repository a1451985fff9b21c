"""One-shot Kubernetes Jobs that converge something idempotently (create roles, buckets, schemas).

A Job's pod template is immutable, so a Job cannot be updated to "run again". Instead its object name
ends in a checksum of everything it acts on: when that changes, the name changes, Pulumi replaces the
Job (create the new one, then delete the old one) and the new Job runs. Pulumi awaits a Job until it
completes, so resources that depend on it see the converged state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.k8s.security import pod_security_context


def config_checksum(*parts: str) -> str:
    """A short, stable hex digest of ``parts`` (order matters), for names and annotations."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:10]


def one_shot_pod_spec(
    *,
    user: int,
    containers: Sequence[k8s.core.v1.ContainerArgs],
    volumes: Sequence[k8s.core.v1.VolumeArgs] = (),
) -> k8s.core.v1.PodSpecArgs:
    """The pod of a :func:`one_shot_job`: runs as ``user``, never restarted in place (the Job retries
    with a new pod), and without an API token or service-link variables it has no use for."""
    return k8s.core.v1.PodSpecArgs(
        restart_policy="Never",
        automount_service_account_token=False,
        enable_service_links=False,
        security_context=pod_security_context(user=user),
        containers=list(containers),
        volumes=list(volumes),
    )


def one_shot_job(
    resource_name: str,
    *,
    object_name: pulumi.Input[str],
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    pod_spec: k8s.core.v1.PodSpecArgs,
    ttl_seconds_after_finished: int | None,
    backoff_limit: int = 6,
    active_deadline_seconds: int = 900,
    opts: pulumi.ResourceOptions,
) -> k8s.batch.v1.Job:
    """Declares a Job that retries with back-off and never restarts its pod in place.

    Args:
        resource_name: the Pulumi name, stable across reruns.
        object_name: the Kubernetes name; should end in a :func:`config_checksum` of the Job's inputs.
        ttl_seconds_after_finished: None keeps the finished Job (and its logs). A number lets Kubernetes
            delete it; after a ``pulumi refresh`` the next ``up`` then recreates and reruns it, which is
            harmless only because every Job here is idempotent.
        backoff_limit: retries; they cover the service it talks to still starting up.
        active_deadline_seconds: upper bound on all attempts together.
    """
    return k8s.batch.v1.Job(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=object_name,
            namespace=namespace,
            labels=dict(labels),
            # A Job that failed is replaced on the next `up` instead of being awaited again forever.
            annotations={"pulumi.com/replaceUnready": "true"},
        ),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=backoff_limit,
            active_deadline_seconds=active_deadline_seconds,
            ttl_seconds_after_finished=ttl_seconds_after_finished,
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=dict(labels)),
                spec=pod_spec,
            ),
        ),
        opts=opts,
    )
