"""SandboxCatalog: the sandbox's own Hive metastore, seeded from its tier's catalog onto its branch.

Creates, in the sandbox namespace:
- a Secret with the tier's read-only metastore identity (from the tier's secret outputs);
- a ConfigMap with the seed scripts (``catalog_seed/seed.sh`` and ``seed.sql``, which say the rules);
- a Job, ``metastore-seed-<checksum>``, that runs them in the tier's Postgres image: a ``pg_dump`` of
  the tier's metastore database as the read-only role, applied to the sandbox's own metastore database
  in one transaction that rewrites locations onto the sandbox's lakeFS branch;
- a :class:`HiveMetastore` (the tier's version) on that database, with no schema Job of its own: the
  schema is the tier's, copied. It starts after the seed and restarts after a re-seed.

The Job's name follows the snapshot's commit, so a newer snapshot (a replaced lakeFS branch) re-seeds;
a Job replacement deletes only the Job. Any other rerun leaves an already seeded catalog untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config.mirror import MAVEN_CENTRAL
from components.images import pull_reference
from components.k8s import (
    ContainerResources,
    config_checksum,
    config_map_volume,
    container_security_context,
    empty_dir,
    one_shot_job,
    one_shot_pod_spec,
    opaque_secret,
    secret_env,
    standard_labels,
)
from components.tier.metastore import HiveMetastore, HiveMetastoreArgs, JdbcDriver, MetastoreDatabase
from components.tier.postgres_bootstrap import PostgresDatabase, postgres_image

SCRIPTS = Path(__file__).parent / "catalog_seed"
METASTORE = "metastore"
SEED = "metastore-seed"
_POSTGRES_UID = 999


def seed_scripts() -> dict[str, str]:
    """The seed's files, exactly as the Job mounts them."""
    return {name: (SCRIPTS / name).read_text() for name in ("seed.sh", "seed.sql")}


@dataclass(frozen=True)
class TierCatalog:
    """Where the tier's catalog is, and the read-only identity a sandbox reads it with."""

    database: pulumi.Input[dict[str, Any]]
    """The tier's ``metastoreDatabase`` output: ``host``, ``port``, ``name``, ``sslmode``."""
    reader_username: pulumi.Input[str]
    """Secret."""
    reader_password: pulumi.Input[str]
    """Secret."""
    metastore_version: pulumi.Input[str]
    postgres_version: pulumi.Input[str]


@dataclass(frozen=True)
class SandboxCatalogArgs:
    """Inputs of :class:`SandboxCatalog`."""

    namespace: pulumi.Input[str]
    tier: TierCatalog
    postgres_host: pulumi.Input[str]
    """The sandbox's own Postgres (its run storage server)."""
    database: PostgresDatabase
    """The sandbox's metastore database on it, owned by the role the seed and the metastore use."""
    repository: pulumi.Input[str]
    source_ref: pulumi.Input[str]
    source_commit: pulumi.Input[str]
    """The snapshot's commit: a new one re-seeds."""
    branch: str
    """The sandbox's lakeFS branch, where table locations are rewritten to."""
    include_databases: Sequence[str] | None = None
    """Hive databases to seed; None seeds every one."""
    image_registry: pulumi.Input[str] | None = None
    """The tier's ``imageRegistry``: the mirror the metastore and seed images are pulled from."""
    maven_repository: pulumi.Input[str] = MAVEN_CENTRAL
    """The tier's ``mavenRepository``: where the metastore downloads its JDBC driver."""
    paused: bool = False
    """``sandbox:paused``: the metastore server runs no pod (its catalog stays in the database)."""


class SandboxCatalog(pulumi.ComponentResource):
    """The sandbox's metastore and the seed that fills it from the tier's."""

    uri: pulumi.Output[str]
    """Thrift URI of the sandbox's metastore; resolves once it is seeded and serving."""
    seed_job_name: pulumi.Output[str]
    """Name of the seed Job, whose log lists every table left out and why."""

    def __init__(
        self, name: str, args: SandboxCatalogArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pipeline-sandbox:sandbox:Catalog", name, None, opts)
        self._name = name
        self._args = args
        self._labels = standard_labels("hive-metastore", "metastore-seed", name)
        child = pulumi.ResourceOptions(parent=self)
        reader = opaque_secret(
            f"{name}-reader",
            name=f"{SEED}-reader",
            namespace=args.namespace,
            labels=self._labels,
            string_data={"username": args.tier.reader_username, "password": args.tier.reader_password},
            opts=child,
        )
        scripts = k8s.core.v1.ConfigMap(
            f"{name}-seed-scripts",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SEED, namespace=args.namespace, labels=self._labels),
            data=seed_scripts(),
            opts=child,
        )
        job = self._create_seed_job(reader, scripts)
        self.seed_job_name = job.metadata.name
        metastore = HiveMetastore(
            METASTORE,
            HiveMetastoreArgs(
                namespace=args.namespace,
                version=args.tier.metastore_version,
                database=MetastoreDatabase(
                    host=args.postgres_host,
                    database=args.database.name,
                    credentials_secret_name=args.database.secret_name,
                ),
                external_schema=self.seed_job_name,
                image_registry=args.image_registry,
                jdbc_driver=JdbcDriver(repository=args.maven_repository),
                replicas=0 if args.paused else 1,
            ),
            opts=child,
        )
        # Whoever takes the URI (the code location) waits until the metastore serves the seeded catalog.
        self.uri = pulumi.Output.all(metastore.uri, metastore.deployment.id).apply(
            lambda parts: str(parts[0])
        )
        self.register_outputs({"uri": self.uri, "seedJobName": self.seed_job_name})

    def seed_id(self) -> pulumi.Output[str]:
        """What the seeded catalog is a copy of; the seed does nothing when it already holds this one."""
        args = self._args
        include = ",".join(args.include_databases or ())
        return pulumi.Output.all(args.repository, args.source_ref, args.source_commit).apply(
            lambda parts: config_checksum(*map(str, parts), args.branch, include)
        )

    def _create_seed_job(
        self, reader: k8s.core.v1.Secret, scripts: k8s.core.v1.ConfigMap
    ) -> k8s.batch.v1.Job:
        args = self._args
        tier_db = pulumi.Output.from_input(args.tier.database)
        image = pulumi.Output.all(args.tier.postgres_version, args.image_registry).apply(
            lambda parts: pull_reference(postgres_image(parts[0]), parts[1])
        )
        seed_id = self.seed_id()
        plain = [
            ("SOURCE_HOST", tier_db.apply(lambda d: str(d["host"]))),
            ("SOURCE_PORT", tier_db.apply(lambda d: str(int(d["port"])))),
            ("SOURCE_DATABASE", tier_db.apply(lambda d: str(d["name"]))),
            ("SOURCE_SSLMODE", tier_db.apply(lambda d: str(d["sslmode"]))),
            ("TARGET_HOST", args.postgres_host),
            ("TARGET_PORT", "5432"),
            ("TARGET_DATABASE", args.database.name),
            ("TARGET_SSLMODE", "disable"),
            ("LAKEFS_REPOSITORY", args.repository),
            ("SOURCE_REF", args.source_ref),
            ("SOURCE_COMMIT", args.source_commit),
            ("SANDBOX_BRANCH", args.branch),
            ("SEED_ID", seed_id),
            ("INCLUDE_DATABASES", ",".join(args.include_databases or ())),
        ]
        env = [
            *(k8s.core.v1.EnvVarArgs(name=key, value=value) for key, value in plain),
            secret_env("SOURCE_USER", reader.metadata.name, "username"),
            secret_env("SOURCE_PASSWORD", reader.metadata.name, "password"),
            secret_env("TARGET_USER", args.database.secret_name, "username"),
            secret_env("TARGET_PASSWORD", args.database.secret_name, "password"),
        ]
        # Rerun when what is copied, from where or with what changes; the seed itself keeps a catalog
        # it already holds, so only a new seed id (snapshot, branch, databases) replaces the catalog.
        checksum = pulumi.Output.all(image, tier_db, args.postgres_host, seed_id).apply(
            lambda parts: config_checksum(
                *seed_scripts().values(), str(parts[0]), repr(sorted(parts[1].items())), *map(str, parts[2:])
            )
        )
        container = k8s.core.v1.ContainerArgs(
            name="seed",
            image=image,
            command=["sh", "/scripts/seed.sh"],
            env=env,
            resources=ContainerResources(
                cpu_request="100m", memory_request="128Mi", cpu_limit="1", memory_limit="512Mi"
            ).to_args(),
            security_context=container_security_context(),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="scripts", mount_path="/scripts", read_only=True),
                k8s.core.v1.VolumeMountArgs(name="work", mount_path="/work"),
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),  # noqa: S108
            ],
        )
        pod_spec = one_shot_pod_spec(
            user=_POSTGRES_UID,
            containers=[container],
            volumes=[
                config_map_volume("scripts", scripts.metadata.name),
                # The dump: about the size of the catalog, a few MiB per thousand tables.
                empty_dir("work", size_limit="1Gi"),
                empty_dir("tmp"),
            ],
        )
        return one_shot_job(
            f"{self._name}-seed",
            object_name=pulumi.Output.concat(SEED, "-", checksum),
            namespace=args.namespace,
            labels=self._labels,
            pod_spec=pod_spec,
            ttl_seconds_after_finished=None,
            opts=pulumi.ResourceOptions(parent=self),
        )
