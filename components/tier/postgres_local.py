"""LocalPostgres: an in-cluster Postgres with one database and one login role per consumer.

Creates, in the given namespace:
- a Secret with the generated superuser password;
- a one-replica StatefulSet (data on a PVC from a volumeClaimTemplate) and a ClusterIP Service on 5432;
- per database: a generated password and a Secret for consumers (``username``, ``password``, ``host``,
  ``port``, ``database``, ``connection-string``, and ``postgresql-password`` for the Dagster chart);
- a ConfigMap with an idempotent psql script and a Job that runs it.

Why a Job and not ``/docker-entrypoint-initdb.d``: init scripts run only when the data directory is
first created, so a database added later would never appear. The Job runs whenever the database list,
the image or a password changes (its name carries a checksum of them), and converges instead of
creating: roles and databases are created only if missing, passwords and ownership are always set.
The tier uses this for lakeFS, the metastore and Dagster; each sandbox reuses it for its own Dagster.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.k8s import (
    ContainerResources,
    check_object_name,
    config_checksum,
    container_security_context,
    empty_dir,
    one_shot_job,
    pod_security_context,
    secret_env,
    selector_labels,
    service_host,
    standard_labels,
)
from components.k8s.workloads import cluster_ip_service, single_replica_statefulset

PORT = 5432
SUPERUSER = "postgres"
_APP = "postgres"
_COMPONENT = "database"
_DATA_MOUNT = "/var/lib/postgresql/data"
# A subdirectory, because a fresh volume's root may hold lost+found and initdb wants an empty directory.
_PGDATA = f"{_DATA_MOUNT}/pgdata"
# The uid/gid of the `postgres` user in the official image.
_POSTGRES_UID = 999
_SCRIPT = "ensure-databases.sql"
# Needs no quoting in SQL, and leaves room in the object names derived from it.
_DATABASE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
# `<name>-db-init-<10 hex>` must stay a 63-character label (Job names become pod label values).
_NAME_ROOM = len("-db-init-") + 10


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
    resources: ContainerResources = field(
        default_factory=lambda: ContainerResources(
            cpu_request="250m", memory_request="256Mi", cpu_limit="2", memory_limit="1Gi"
        )
    )
    protect: bool = False
    """Protects the StatefulSet (and so its volume) and the superuser password baked into the data."""
    job_ttl_seconds: int | None = None
    """Let Kubernetes delete the finished init Job after this long; None keeps it and its logs."""

    def __post_init__(self) -> None:
        bad = [d for d in self.databases if not _DATABASE_NAME.match(d) or d == SUPERUSER]
        if bad:
            raise ValueError(
                f"database names {bad} are invalid: use lower-case letters, digits and '_', start with a "
                f"letter, at most 48 characters, and not {SUPERUSER!r}"
            )
        if len(set(self.databases)) != len(self.databases):
            raise ValueError(f"database names must be unique, got {list(self.databases)}")
        if isinstance(self.version, str):
            postgres_image(self.version)


@dataclass(frozen=True)
class PostgresDatabase:
    """One database a consumer owns, and where its credentials are."""

    name: str
    user: str
    password: pulumi.Output[str]
    """Secret."""
    secret_name: str
    """Kubernetes Secret with keys ``username``, ``password``, ``host``, ``port``, ``database``,
    ``connection-string`` (``postgres://…?sslmode=disable``) and ``postgresql-password``."""


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

    def __init__(
        self, name: str, args: LocalPostgresArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pipeline-sandbox:tier:LocalPostgres", name, None, opts)
        check_object_name(name, room=_NAME_ROOM)
        self._name = name
        self._args = args
        self._labels = standard_labels(_APP, _COMPONENT, name)
        self._image = pulumi.Output.from_input(args.version).apply(postgres_image)
        self.port = PORT
        self.host = service_host(name, args.namespace)
        self.superuser_secret_name = f"{name}-superuser"

        superuser_secret = self._create_superuser_secret()
        self._create_service()
        statefulset = self._create_statefulset(superuser_secret)
        self.databases = {db: self._create_database(db) for db in args.databases}
        if self.databases:
            self._create_init_job(superuser_secret, statefulset)
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
        return k8s.core.v1.Secret(
            f"{self._name}-superuser",
            metadata=self._metadata(self.superuser_secret_name),
            type="Opaque",
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

    def _create_database(self, db: str) -> PostgresDatabase:
        # Secret by construction, not only by the engine's additionalSecretOutputs for `result`.
        result: pulumi.Output[str] = self._password(f"db-{db.replace('_', '-')}").result
        password: pulumi.Output[str] = pulumi.Output.secret(result)
        secret_name = f"{self._name}-db-{db.replace('_', '-')}"
        connection_string = pulumi.Output.concat(
            "postgres://", db, ":", password, "@", self.host, ":", str(PORT), "/", db, "?sslmode=disable"
        )
        k8s.core.v1.Secret(
            secret_name,
            metadata=self._metadata(secret_name),
            type="Opaque",
            string_data={
                "username": db,
                "password": password,
                "host": self.host,
                "port": str(PORT),
                "database": db,
                "connection-string": connection_string,
                # The key the Dagster chart reads from `global.postgresqlSecretName`.
                "postgresql-password": password,
            },
            opts=self._child(),
        )
        return PostgresDatabase(name=db, user=db, password=password, secret_name=secret_name)

    def _create_init_job(
        self, superuser_secret: k8s.core.v1.Secret, statefulset: k8s.apps.v1.StatefulSet
    ) -> k8s.batch.v1.Job:
        script = ensure_databases_script(list(self.databases))
        config_map = k8s.core.v1.ConfigMap(
            f"{self._name}-db-init",
            metadata=self._metadata(f"{self._name}-db-init"),
            data={_SCRIPT: script},
            opts=self._child(),
        )
        passwords = [db.password for db in self.databases.values()]
        # The checksum of random 190-bit passwords reveals nothing; unsecret it so the Job name is readable.
        checksum = pulumi.Output.unsecret(
            pulumi.Output.all(self._image, *passwords).apply(lambda parts: config_checksum(script, *parts))
        )
        env = [
            k8s.core.v1.EnvVarArgs(name="PGHOST", value=self.host),
            k8s.core.v1.EnvVarArgs(name="PGPORT", value=str(PORT)),
            k8s.core.v1.EnvVarArgs(name="PGUSER", value=SUPERUSER),
            k8s.core.v1.EnvVarArgs(name="PGDATABASE", value="postgres"),
            k8s.core.v1.EnvVarArgs(name="PGCONNECT_TIMEOUT", value="10"),
            secret_env("PGPASSWORD", superuser_secret.metadata.name, "password"),
        ] + [secret_env(_password_env(db.name), db.secret_name, "password") for db in self.databases.values()]
        container = k8s.core.v1.ContainerArgs(
            name="ensure-databases",
            image=self._image,
            command=["psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-f", f"/scripts/{_SCRIPT}"],
            env=env,
            resources=ContainerResources(memory_limit="128Mi", cpu_limit="500m").to_args(),
            security_context=container_security_context(),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="scripts", mount_path="/scripts", read_only=True)
            ],
        )
        pod_spec = k8s.core.v1.PodSpecArgs(
            restart_policy="Never",
            automount_service_account_token=False,
            enable_service_links=False,
            security_context=pod_security_context(user=_POSTGRES_UID),
            containers=[container],
            volumes=[
                k8s.core.v1.VolumeArgs(
                    name="scripts",
                    config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_map.metadata.name),
                )
            ],
        )
        return one_shot_job(
            f"{self._name}-db-init-job",
            object_name=pulumi.Output.concat(self._name, "-db-init-", checksum),
            namespace=self._args.namespace,
            labels={**self._labels, "app.kubernetes.io/component": "database-init"},
            pod_spec=pod_spec,
            ttl_seconds_after_finished=self._args.job_ttl_seconds,
            # Pulumi awaits the StatefulSet's readiness, so the Job's first attempt usually connects.
            opts=self._child(depends_on=[statefulset]),
        )


def postgres_image(version: str) -> str:
    """The official image for ``version``; refuses versions older than 15 (see ``version``)."""
    major = re.match(r"^(\d+)", version)
    if major is None or int(major.group(1)) < 15:
        raise ValueError(f"postgres version must be 15 or newer, got {version!r}")
    return f"postgres:{version}"


def ensure_databases_script(databases: Sequence[str]) -> str:
    """An idempotent psql script: per database, a login role and a database it owns.

    ``CREATE DATABASE`` cannot run inside a ``DO`` block, and psql variables are not substituted inside
    one, so each statement is built by a guarded ``SELECT format(...)`` and run with ``\\gexec``;
    ``%I``/``%L`` quote names and passwords. Passwords come from the environment (``\\getenv``), never
    from the script, so the ConfigMap holds no secret.
    """
    lines = ["-- Generated by pipeline-sandbox (LocalPostgres). Safe to run any number of times.", ""]
    for db in databases:
        lines += [
            f"\\set name {db}",
            f"\\getenv password {_password_env(db)}",
            "SELECT format('CREATE ROLE %I LOGIN', :'name')",
            "  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \\gexec",
            "SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'name', :'password') \\gexec",
            "SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')",
            "  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \\gexec",
            "SELECT format('ALTER DATABASE %I OWNER TO %I', :'name', :'name') \\gexec",
            # Consumers share one server; none may even connect to another's database.
            "SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'name') \\gexec",
            "",
        ]
    return "\n".join(lines)


def _password_env(db: str) -> str:
    return f"PASSWORD_{db.upper()}"
