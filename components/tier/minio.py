"""LocalObjectStore: an in-cluster MinIO holding the lakeFS bucket (the ``local`` platform's S3).

Creates, in the given namespace:
- a Secret with generated root credentials (keys ``access-key-id`` and ``secret-access-key``);
- a one-replica StatefulSet (data on a PVC) and a ClusterIP Service (S3 API 9000, console 9001);
- a Job that creates the bucket with ``mc mb --ignore-existing`` (idempotent; reruns only when the
  bucket, endpoint or client image change).

Images come from ``quay.io/minio``, the registry MinIO's own Kubernetes docs use: it carries the same
RELEASE tags as Docker Hub without Docker Hub's anonymous pull limits, which kind clusters and CI hit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.images import pull_reference
from components.k8s import (
    ContainerResources,
    check_object_name,
    config_checksum,
    container_security_context,
    empty_dir,
    one_shot_job,
    one_shot_pod_spec,
    opaque_secret,
    pod_security_context,
    secret_env,
    selector_labels,
    service_host,
    standard_labels,
)
from components.k8s.workloads import cluster_ip_service, single_replica_statefulset

API_PORT = 9000
CONSOLE_PORT = 9001
ACCESS_KEY_ID_KEY = "access-key-id"
SECRET_ACCESS_KEY_KEY = "secret-access-key"  # noqa: S105 - a key name
_APP = "minio"
_COMPONENT = "object-store"
# MinIO needs no particular uid; any non-root uid that owns /data (via fsGroup) works.
_UID = 1000
# S3 bucket naming rules (lower-case, digits, '-', '.'), 3 to 63 characters.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_NAME_ROOM = len("-bucket-") + 10


@dataclass(frozen=True)
class LocalObjectStoreArgs:
    """Inputs of :class:`LocalObjectStore`."""

    namespace: pulumi.Input[str]
    version: str
    """MinIO server RELEASE tag, e.g. ``RELEASE.2025-04-22T22-12-26Z``."""
    bucket: str
    """The bucket to create (lakeFS's storage namespace lives in it)."""
    mc_version: str = "RELEASE.2025-04-16T18-13-26Z"
    """``mc`` client tag for the bucket Job; the client release paired with the default server."""
    image_source: str = "quay.io/minio"
    """Where MinIO publishes its server and ``mc`` images."""
    image_registry: str | None = None
    """Mirror registry both images are pulled from instead (``tier:images.registry``)."""
    storage_size: str = "20Gi"
    storage_class_name: str | None = None
    """None uses the cluster's default StorageClass."""
    resources: ContainerResources = field(
        default_factory=lambda: ContainerResources(
            cpu_request="250m", memory_request="512Mi", cpu_limit="2", memory_limit="2Gi"
        )
    )
    protect: bool = False
    """Protects the StatefulSet (and so its volume, which holds the bucket)."""
    job_ttl_seconds: int | None = None
    """Let Kubernetes delete the finished bucket Job after this long; None keeps it and its logs."""

    def __post_init__(self) -> None:
        if not _BUCKET.match(self.bucket) or ".." in self.bucket:
            raise ValueError(f"{self.bucket!r} is not a valid S3 bucket name")


class LocalObjectStore(pulumi.ComponentResource):
    """A single-node MinIO with one bucket, reachable in-cluster over plain HTTP."""

    endpoint: pulumi.Output[str]
    """S3 endpoint URL, e.g. ``http://tier-minio.tier.svc.cluster.local:9000``."""
    bucket: str
    """The bucket the Job created."""
    credentials_secret_name: str
    """Secret with keys ``access-key-id`` and ``secret-access-key``."""
    access_key_id: pulumi.Output[str]
    """Secret."""
    secret_access_key: pulumi.Output[str]
    """Secret."""

    def __init__(
        self, name: str, args: LocalObjectStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pipeline-sandbox:tier:LocalObjectStore", name, None, opts)
        check_object_name(name, room=_NAME_ROOM)
        self._name = name
        self._args = args
        self._labels = standard_labels(_APP, _COMPONENT, name)
        self.bucket = args.bucket
        self.credentials_secret_name = f"{name}-credentials"
        self.endpoint = pulumi.Output.concat("http://", service_host(name, args.namespace), f":{API_PORT}")

        secret = self._create_credentials()
        self._create_service()
        statefulset = self._create_statefulset(secret)
        self._create_bucket_job(secret, statefulset)
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "bucket": self.bucket,
                "credentialsSecretName": self.credentials_secret_name,
            }
        )

    def _metadata(self, name: pulumi.Input[str]) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=self._args.namespace, labels=self._labels)

    def _create_credentials(self) -> k8s.core.v1.Secret:
        # Letters and digits only: the keys are embedded unescaped in the mc host URL.
        # Protected with the data: MinIO keeps using the root credentials it first started with.
        protect = pulumi.ResourceOptions(parent=self, protect=self._args.protect)
        access_key = random.RandomPassword(
            f"{self._name}-access-key-id", length=20, special=False, opts=protect
        )
        secret_key = random.RandomPassword(
            f"{self._name}-secret-access-key", length=40, special=False, opts=protect
        )
        # Secret by construction, not only by the engine's additionalSecretOutputs for `result`.
        self.access_key_id = pulumi.Output.secret(access_key.result)
        self.secret_access_key = pulumi.Output.secret(secret_key.result)
        return opaque_secret(
            f"{self._name}-credentials",
            name=self.credentials_secret_name,
            namespace=self._args.namespace,
            labels=self._labels,
            string_data={ACCESS_KEY_ID_KEY: access_key.result, SECRET_ACCESS_KEY_KEY: secret_key.result},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_service(self) -> k8s.core.v1.Service:
        return cluster_ip_service(
            f"{self._name}-service",
            metadata=self._metadata(self._name),
            selector=selector_labels(_APP, _COMPONENT, self._name),
            ports=[("s3", API_PORT), ("console", CONSOLE_PORT)],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_statefulset(self, secret: k8s.core.v1.Secret) -> k8s.apps.v1.StatefulSet:
        args = self._args
        return single_replica_statefulset(
            f"{self._name}-statefulset",
            service_name=self._name,
            metadata=self._metadata(self._name),
            labels=self._labels,
            selector=selector_labels(_APP, _COMPONENT, self._name),
            pod_spec=self._server_pod_spec(secret),
            storage_size=args.storage_size,
            storage_class_name=args.storage_class_name,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )

    def _server_pod_spec(self, secret: k8s.core.v1.Secret) -> k8s.core.v1.PodSpecArgs:
        container = k8s.core.v1.ContainerArgs(
            name="minio",
            image=pull_reference(
                f"{self._args.image_source}/minio:{self._args.version}", self._args.image_registry
            ),
            args=[
                "server",
                "/data",
                "--address",
                f":{API_PORT}",
                "--console-address",
                f":{CONSOLE_PORT}",
                # Under a read-only root, MinIO's default ~/.minio/certs cannot be created.
                "--certs-dir",
                "/tmp/certs",  # noqa: S108
            ],
            ports=[
                k8s.core.v1.ContainerPortArgs(name="s3", container_port=API_PORT),
                k8s.core.v1.ContainerPortArgs(name="console", container_port=CONSOLE_PORT),
            ],
            env=[
                secret_env("MINIO_ROOT_USER", secret.metadata.name, ACCESS_KEY_ID_KEY),
                secret_env("MINIO_ROOT_PASSWORD", secret.metadata.name, SECRET_ACCESS_KEY_KEY),
                k8s.core.v1.EnvVarArgs(name="MINIO_BROWSER_REDIRECT", value="false"),
            ],
            resources=self._args.resources.to_args(),
            security_context=container_security_context(),
            startup_probe=_http_probe("/minio/health/live", period=5, failures=60),
            liveness_probe=_http_probe("/minio/health/live", period=20, failures=3),
            readiness_probe=_http_probe("/minio/health/ready", period=10, failures=3),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="data", mount_path="/data"),
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),  # noqa: S108
            ],
        )
        return k8s.core.v1.PodSpecArgs(
            automount_service_account_token=False,
            enable_service_links=False,
            security_context=pod_security_context(user=_UID),
            containers=[container],
            volumes=[empty_dir("tmp")],
        )

    def _create_bucket_job(
        self, secret: k8s.core.v1.Secret, statefulset: k8s.apps.v1.StatefulSet
    ) -> k8s.batch.v1.Job:
        args = self._args
        image = pull_reference(f"{args.image_source}/mc:{args.mc_version}", args.image_registry)
        host = service_host(self._name, args.namespace)
        checksum = host.apply(lambda h: config_checksum(args.bucket, image, h))
        container = k8s.core.v1.ContainerArgs(
            name="create-bucket",
            image=image,
            # No shell: a failed attempt (MinIO still starting) is retried by the Job's back-off.
            args=["--config-dir", "/tmp/mc", "mb", "--ignore-existing", f"store/{args.bucket}"],  # noqa: S108
            env=[
                secret_env("ACCESS_KEY_ID", secret.metadata.name, ACCESS_KEY_ID_KEY),
                secret_env("SECRET_ACCESS_KEY", secret.metadata.name, SECRET_ACCESS_KEY_KEY),
                # Kubernetes expands $(VAR) from the env vars above, so no credential is in the spec.
                k8s.core.v1.EnvVarArgs(
                    name="MC_HOST_store",
                    value=pulumi.Output.concat(
                        "http://$(ACCESS_KEY_ID):$(SECRET_ACCESS_KEY)@", host, f":{API_PORT}"
                    ),
                ),
            ],
            resources=ContainerResources(memory_limit="128Mi", cpu_limit="500m").to_args(),
            security_context=container_security_context(),
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")],  # noqa: S108
        )
        return one_shot_job(
            f"{self._name}-bucket-job",
            object_name=pulumi.Output.concat(self._name, "-bucket-", checksum),
            namespace=args.namespace,
            labels={**self._labels, "app.kubernetes.io/component": "object-store-init"},
            pod_spec=one_shot_pod_spec(user=_UID, containers=[container], volumes=[empty_dir("tmp")]),
            ttl_seconds_after_finished=args.job_ttl_seconds,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[statefulset]),
        )


def _http_probe(path: str, *, period: int, failures: int) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port="s3"),
        period_seconds=period,
        timeout_seconds=5,
        failure_threshold=failures,
    )
