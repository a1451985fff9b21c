"""The shared lakeFS server: the official ``lakefs`` Helm chart, pinned, with Postgres as KV store.

Creates one Secret with the Postgres connection string and a generated encryption key (the chart's
``existingSecret``, so neither value appears in chart values and the chart never falls back to its
hard-coded key), a second Secret with the MinIO keys on the local platform, and the chart itself
(``helm.v4.Chart``: rendered by the provider, so previews show per-object diffs and the program
works in ``renderYamlToDirectory`` mode). Objects store in S3: in-cluster MinIO with static keys, or
AWS S3 through IRSA (a role annotation on the chart's ServiceAccount, no keys anywhere).

Value names follow treeverse/charts ``charts/lakefs`` at chart 1.12.16 (``values.yaml``,
``templates/_shared_env.tpl``, ``_env.tpl``, ``deployment.yaml``); that chart publishes no
``values.schema.json``, so Helm validates nothing and these names are pinned by tests instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from components.charts import PUBLIC_REPOSITORIES, ChartLocation
from components.images import pull_repository
from components.k8s import ContainerResources, check_object_name, opaque_secret, standard_labels
from components.tier.chart_common import RunAs, chart_source_args

CHART = "lakefs"
IMAGE_REPOSITORY = "treeverse/lakefs"
SERVICE_PORT = 80
CONNECTION_STRING_KEY = "database_connection_string"
ENCRYPT_KEY_KEY = "auth_encrypt_secret_key"
ACCESS_KEY_ID_KEY = "access_key_id"
SECRET_ACCESS_KEY_KEY = "secret_access_key"  # noqa: S105 - a key name
# Where lakeFS caches committed metaranges; an emptyDir, so the root filesystem can stay read-only.
_CACHE_SIZE_LIMIT = "2Gi"
# The release name names the Service; the chart derives longer object names from it.
_RELEASE_NAME_MAX = 40


@dataclass(frozen=True)
class MinioBlockstore:
    """Objects in an S3-compatible MinIO reachable from the cluster, with static keys."""

    endpoint: pulumi.Input[str]
    """e.g. ``http://minio.tier.svc.cluster.local:9000``."""
    access_key_id: pulumi.Input[str]
    secret_access_key: pulumi.Input[str]
    region: str = "us-east-1"


@dataclass(frozen=True)
class AwsS3Blockstore:
    """Objects in AWS S3; credentials come from IRSA, never from keys."""

    region: str
    role_arn: pulumi.Input[str]
    """IAM role the lakeFS ServiceAccount assumes (``eks.amazonaws.com/role-arn``)."""


@dataclass(frozen=True)
class LakeFSServerArgs:
    """Inputs of :class:`LakeFSServer`."""

    namespace: pulumi.Input[str]
    chart_version: str
    """lakeFS Helm chart version (``tier:versions.lakefsChart``)."""
    image_tag: str
    """``treeverse/lakefs`` image tag (``tier:versions.lakefs``)."""
    database_connection_string: pulumi.Input[str]
    """``postgres://user:password@host:5432/db?sslmode=...``; stored only in a Secret."""
    blockstore: MinioBlockstore | AwsS3Blockstore
    release_name: str = "lakefs"
    """Helm release name and the name of every object the chart creates (``fullnameOverride``)."""
    replicas: int = 1
    resources: ContainerResources = field(
        default_factory=lambda: ContainerResources("250m", "512Mi", "2", "2Gi")
    )
    run_as: RunAs = field(default_factory=lambda: RunAs(user=101, group=101))
    chart: ChartLocation = field(default_factory=lambda: ChartLocation(CHART, PUBLIC_REPOSITORIES[CHART]))
    """Where the chart comes from (``tier:charts.lakefs``)."""
    image_registry: str | None = None
    """Mirror registry the lakeFS image is pulled from (``tier:images.registry``); None: Docker Hub."""


class LakeFSServer(pulumi.ComponentResource):
    """lakeFS from its official chart, with secrets kept in Kubernetes Secrets."""

    service_name: pulumi.Output[str]
    """Name of the lakeFS Service."""
    service_port: pulumi.Output[int]
    """Port of the lakeFS Service (API, UI and S3 gateway)."""
    internal_endpoint: pulumi.Output[str]
    """``http://<service>.<namespace>.svc.cluster.local[:port]``, for clients inside the cluster."""

    def __init__(self, name: str, args: LakeFSServerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-sandbox:tier:LakeFSServer", name, None, opts)
        _validate(args)
        server_secret = self._create_server_secret(name, args)
        secrets = [server_secret]
        blockstore_secret_name = f"{args.release_name}-blockstore"
        if isinstance(args.blockstore, MinioBlockstore):
            secrets.append(
                self._create_blockstore_secret(name, args, args.blockstore, blockstore_secret_name)
            )
        self.chart = k8s.helm.v4.Chart(
            f"{name}-chart",
            **chart_source_args(args.chart),
            version=args.chart_version,
            name=args.release_name,
            namespace=args.namespace,
            values=lakefs_values(
                args,
                server_secret_name=f"{args.release_name}-server",
                blockstore_secret_name=blockstore_secret_name,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=secrets),
        )
        self.service_name = pulumi.Output.from_input(args.release_name)
        self.service_port = pulumi.Output.from_input(SERVICE_PORT)
        self.internal_endpoint = pulumi.Output.from_input(args.namespace).apply(
            lambda ns: internal_endpoint(args.release_name, ns, SERVICE_PORT)
        )
        self.register_outputs(
            {
                "service_name": self.service_name,
                "service_port": self.service_port,
                "internal_endpoint": self.internal_endpoint,
            }
        )

    def _create_server_secret(self, name: str, args: LakeFSServerArgs) -> k8s.core.v1.Secret:
        # 64 alphanumerics: no characters that need quoting anywhere, ~380 bits.
        self.encrypt_key = random.RandomPassword(
            f"{name}-encrypt-key", length=64, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        return opaque_secret(
            f"{name}-server-secret",
            name=f"{args.release_name}-server",
            namespace=args.namespace,
            labels=standard_labels("lakefs", "server", name),
            string_data={
                CONNECTION_STRING_KEY: args.database_connection_string,
                ENCRYPT_KEY_KEY: self.encrypt_key.result,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_blockstore_secret(
        self, name: str, args: LakeFSServerArgs, minio: MinioBlockstore, secret_name: str
    ) -> k8s.core.v1.Secret:
        return opaque_secret(
            f"{name}-blockstore-secret",
            name=secret_name,
            namespace=args.namespace,
            labels=standard_labels("lakefs", "server", name),
            string_data={
                ACCESS_KEY_ID_KEY: minio.access_key_id,
                SECRET_ACCESS_KEY_KEY: minio.secret_access_key,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )


def _validate(args: LakeFSServerArgs) -> None:
    check_object_name(args.release_name, room=63 - _RELEASE_NAME_MAX, what="release_name")
    if args.replicas < 1:
        raise ValueError(f"replicas: expected at least 1, got {args.replicas}")


def internal_endpoint(service: str, namespace: str, port: int) -> str:
    """The in-cluster URL of a Service; the port is left out when it is HTTP's default."""
    suffix = "" if port == 80 else f":{port}"
    return f"http://{service}.{namespace}.svc.cluster.local{suffix}"


def lakefs_config(blockstore: MinioBlockstore | AwsS3Blockstore) -> dict[str, Any]:
    """The non-secret part of lakeFS's config file (``lakefsConfig``).

    The endpoint may be an Output, so the caller renders this to YAML inside an ``apply``.
    """
    s3: dict[str, Any] = {"region": blockstore.region}
    if isinstance(blockstore, MinioBlockstore):
        s3.update(
            {
                "endpoint": blockstore.endpoint,
                # MinIO serves buckets by path, and has no GetBucketRegion worth asking.
                "force_path_style": True,
                "discover_bucket_region": False,
            }
        )
    return {"database": {"type": "postgres"}, "blockstore": {"type": "s3", "s3": s3}}


def lakefs_values(args: LakeFSServerArgs, *, server_secret_name: str, blockstore_secret_name: str) -> Any:
    """The chart values: an Output, because the MinIO endpoint may be one."""
    config = pulumi.Output.from_input(lakefs_config(args.blockstore)).apply(
        lambda resolved: yaml.safe_dump(resolved, sort_keys=True)
    )
    values: dict[str, Any] = {
        "fullnameOverride": args.release_name,
        "replicaCount": args.replicas,
        "image": {
            "repository": pull_repository(IMAGE_REPOSITORY, args.image_registry),
            "community": {"tag": args.image_tag},
            "pullPolicy": "IfNotPresent",
        },
        "lakefsConfig": config,
        "existingSecret": server_secret_name,
        "secretKeys": {
            "databaseConnectionString": CONNECTION_STRING_KEY,
            "authEncryptSecretKey": ENCRYPT_KEY_KEY,
        },
        "service": {"type": "ClusterIP", "port": SERVICE_PORT},
        "resources": args.resources.to_values(),
        "podSecurityContext": args.run_as.pod_security_context(),
        "securityContext": args.run_as.container_security_context(),
        "committedLocalCacheVolume": {"emptyDir": {"sizeLimit": _CACHE_SIZE_LIMIT}},
        "extraVolumes": [{"name": "tmp", "emptyDir": {}}],
        "extraVolumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - an emptyDir
        "serviceAccount": _service_account(args),
    }
    if isinstance(args.blockstore, MinioBlockstore):
        values["extraEnvVars"] = [
            _secret_env(
                "LAKEFS_BLOCKSTORE_S3_CREDENTIALS_ACCESS_KEY_ID", blockstore_secret_name, ACCESS_KEY_ID_KEY
            ),
            _secret_env(
                "LAKEFS_BLOCKSTORE_S3_CREDENTIALS_SECRET_ACCESS_KEY",
                blockstore_secret_name,
                SECRET_ACCESS_KEY_KEY,
            ),
        ]
    return values


def chart_images(values: Mapping[str, Any]) -> list[str]:
    """The images the chart runs with ``values``: the server's only, as every other workload the chart
    can run (dev Postgres, MDS, replication, audit, proxies) stays off with :func:`lakefs_values`."""
    image = values["image"]
    return [f"{image['repository']}:{image.get('tag') or image['community']['tag']}"]


def _service_account(args: LakeFSServerArgs) -> dict[str, Any]:
    account: dict[str, Any] = {"create": True, "name": args.release_name}
    if isinstance(args.blockstore, AwsS3Blockstore):
        account["annotations"] = {"eks.amazonaws.com/role-arn": args.blockstore.role_arn}
    return account


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
