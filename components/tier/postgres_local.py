"""LocalPostgres: an in-cluster Postgres with one database and one login role per consumer.

Creates, in the given namespace:
- a Secret with the generated superuser password;
- a one-replica StatefulSet (data on a PVC from a volumeClaimTemplate) and a ClusterIP Service on 5432;
- per database: a generated password, a Secret for consumers, and the Job that creates the role and
  database (see :mod:`components.tier.postgres_bootstrap`, which the aws platform shares).

The tier uses this for lakeFS, the metastore and Dagster; each sandbox reuses it for its own Dagster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.images import pull_reference
from components.k8s import (
    ContainerResources,
    check_object_name,
    container_security_context,
    empty_dir,
    opaque_secret,
    pod_security_context,
    secret_env,
    selector_labels,
    service_host,
    standard_labels,
)
from components.k8s.workloads import cluster_ip_service, single_replica_statefulset
from components.tier.postgres_bootstrap import (
    NAME_ROOM,
    DatabaseBootstrapArgs,
    PostgresDatabase,
    bootstrap_databases,
    check_database_names,
    postgres_image,
)

PORT = 5432
SUPERUSER = "postgres"
_APP = "postgres"
_COMPONENT = "database"
_DATA_MOUNT = "/var/lib/postgresql/data"
# A subdirectory, because a fresh volume's root may hold lost+found and initdb wants an empty directory.
_PGDATA = f"{_DATA_MOUNT}/pgdata"
# The uid/gid of the `postgres` user in the official image.
_POSTGRES_UID = 999


@dataclass(frozen=True)
class LocalPostgresArgs:
    """Inputs of :class:`LocalPostgres`."""

    namespace: pulumi.Input[str]
    version: pulumi.Input[str]
    """Tag of the official ``postgres`` image, e.g. ``16.4``; 15 or newer (the Job uses psql's \\getenv).
    A sandbox passes its tier's version as an Output, which is checked once it resolves."""
    databases: Sequence[str]
    """One database per name, owned by a role of that name, e.g. ``["lakefs", "metastore", "dagster"]``."""
    storage_size: str = "10Gi"
    storage_class_name: str | None = None
    """None uses the cluster's default StorageClass."""
    image_registry: pulumi.Input[str | None] = None
    """Mirror registry the ``postgres`` image is pulled from (``tier:images.registry``; a sandbox passes
    its tier's); None pulls it from Docker Hub."""
    resources: ContainerResources = field(
        default_factory=lambda: ContainerResources(
            cpu_request="250m", memory_request="256Mi", cpu_limit="2", memory_limit="1Gi"
        )
    )
    protect: bool = False
    """Protects the StatefulSet (and so its volume) and the superuser password baked into the data."""
    job_ttl_seconds: int | None = None
    """Let Kubernetes delete the finished init Job after this long; None keeps it and its logs."""
    readers: Mapping[str, str] = field(default_factory=dict)
    """Read-only login roles: role name -> the database it may read (see ``bootstrap_databases``)."""

    def __post_init__(self) -> None:
        check_database_names([*self.databases, *self.readers], reserved={SUPERUSER})
        if isinstance(self.version, str):
            postgres_image(self.version)


class LocalPostgres(pulumi.ComponentResource):
    """A single-instance Postgres inside the cluster, with a database and role per consumer."""

    host: pulumi.Output[str]
    """In-cluster DNS name of the Service, e.g. ``tier-postgres.tier.svc.cluster.local``."""
    port: int
    """Service port."""
    superuser_secret_name: str
    """Secret holding the superuser's ``username`` and ``password``."""
    databases: dict[str, PostgresDatabase]
    """Per database name: its user, password and credentials Secret."""
    readers: dict[str, PostgresDatabase]
    """Per read-only role: the database it reads, its password and credentials Secret."""
    bootstrap_job: k8s.batch.v1.Job | None
    """The Job that creates the roles and databases; whoever needs them waits for it."""

    def __init__(
        self, name: str, args: LocalPostgresArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pipeline-sandbox:tier:LocalPostgres", name, None, opts)
        check_object_name(name, room=NAME_ROOM)
        self._name = name
        self._args = args
        self._labels = standard_labels(_APP, _COMPONENT, name)
        self._image = pulumi.Output.all(args.version, args.image_registry).apply(
            lambda resolved: pull_reference(postgres_image(resolved[0]), resolved[1])
        )
        self.port = PORT
        self.host = service_host(name, args.namespace)
        self.superuser_secret_name = f"{name}-superuser"

        superuser_secret = self._create_superuser_secret()
        self._create_service()
        statefulset = self._create_statefulset(superuser_secret)
        bootstrap = bootstrap_databases(
            name,
            DatabaseBootstrapArgs(
                namespace=args.namespace,
                host=self.host,
                admin_username=SUPERUSER,
                admin_password_secret_name=superuser_secret.metadata.name,
                image=self._image,
                databases=args.databases,
                labels=self._labels,
                port=PORT,
                job_ttl_seconds=args.job_ttl_seconds,
                # Pulumi awaits the StatefulSet's readiness, so the Job's first attempt usually connects.
                depends_on=[statefulset],
                readers=args.readers,
            ),
            self._child(),
        )
        self.databases = bootstrap.databases
        self.readers = bootstrap.readers
        self.bootstrap_job = bootstrap.job
        self.register_outputs(
            {
                "host": self.host,
                "port": self.port,
                "superuserSecretName": self.superuser_secret_name,
                "databaseSecretNames": {db.name: db.secret_name for db in self.databases.values()},
            }
        )

    def _child(
        self, *, protect: bool = False, depends_on: list[pulumi.Resource] | None = None
    ) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, protect=protect, depends_on=depends_on)

    def _metadata(self, name: pulumi.Input[str]) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=self._args.namespace, labels=self._labels)

    def _password(self, role: str, *, protect: bool = False) -> random.RandomPassword:
        # Letters and digits only: the password goes into URLs and JDBC options unescaped.
        return random.RandomPassword(
            f"{self._name}-{role}-password", length=32, special=False, opts=self._child(protect=protect)
        )

    def _create_superuser_secret(self) -> k8s.core.v1.Secret:
        # Replacing this password would lock us out: initdb baked it into the data directory.
        password = self._password("superuser", protect=self._args.protect)
        return opaque_secret(
            f"{self._name}-superuser",
            name=self.superuser_secret_name,
            namespace=self._args.namespace,
            labels=self._labels,
            string_data={"username": SUPERUSER, "password": password.result},
            opts=self._child(),
        )

    def _create_service(self) -> k8s.core.v1.Service:
        return cluster_ip_service(
            f"{self._name}-service",
            metadata=self._metadata(self._name),
            selector=selector_labels(_APP, _COMPONENT, self._name),
            ports=[("postgres", PORT)],
            opts=self._child(),
        )

    def _create_statefulset(self, superuser_secret: k8s.core.v1.Secret) -> k8s.apps.v1.StatefulSet:
        args = self._args
        return single_replica_statefulset(
            f"{self._name}-statefulset",
            service_name=self._name,
            metadata=self._metadata(self._name),
            labels=self._labels,
            selector=selector_labels(_APP, _COMPONENT, self._name),
            pod_spec=self._server_pod_spec(superuser_secret),
            storage_size=args.storage_size,
            storage_class_name=args.storage_class_name,
            opts=self._child(protect=args.protect),
        )

    def _server_pod_spec(self, superuser_secret: k8s.core.v1.Secret) -> k8s.core.v1.PodSpecArgs:
        ready = k8s.core.v1.ExecActionArgs(
            command=["pg_isready", "--quiet", "-U", SUPERUSER, "-h", "127.0.0.1", "-p", str(PORT)]
        )
        listening = k8s.core.v1.TCPSocketActionArgs(port="postgres")
        container = k8s.core.v1.ContainerArgs(
            name="postgres",
            image=self._image,
            ports=[k8s.core.v1.ContainerPortArgs(name="postgres", container_port=PORT)],
            env=[
                k8s.core.v1.EnvVarArgs(name="PGDATA", value=_PGDATA),
                k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value=SUPERUSER),
                secret_env("POSTGRES_PASSWORD", superuser_secret.metadata.name, "password"),
            ],
            resources=self._args.resources.to_args(),
            security_context=container_security_context(),
            # Startup and liveness check the listener only: crash recovery can take long and
            # must not be killed; readiness waits until connections are accepted.
            startup_probe=k8s.core.v1.ProbeArgs(tcp_socket=listening, period_seconds=5, failure_threshold=60),
            liveness_probe=k8s.core.v1.ProbeArgs(
                tcp_socket=listening, period_seconds=20, failure_threshold=6
            ),
            readiness_probe=k8s.core.v1.ProbeArgs(
                exec_=ready, period_seconds=10, timeout_seconds=5, failure_threshold=3
            ),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="data", mount_path=_DATA_MOUNT),
                # The root filesystem is read-only; these are the only other places Postgres writes.
                k8s.core.v1.VolumeMountArgs(name="run", mount_path="/var/run/postgresql"),
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),  # noqa: S108
                k8s.core.v1.VolumeMountArgs(name="shm", mount_path="/dev/shm"),  # noqa: S108
            ],
        )
        return k8s.core.v1.PodSpecArgs(
            automount_service_account_token=False,
            enable_service_links=False,
            security_context=pod_security_context(user=_POSTGRES_UID),
            # Postgres needs time for a clean shutdown checkpoint.
            termination_grace_period_seconds=60,
            containers=[container],
            volumes=[
                empty_dir("run"),
                empty_dir("tmp"),
                # The container runtime's 64Mi /dev/shm is too small for parallel queries.
                empty_dir("shm", memory=True, size_limit="256Mi"),
            ],
        )
