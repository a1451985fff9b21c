"""The tier's data plane per platform: Postgres (one database per consumer) and object storage.

``local`` runs both in the cluster; ``aws`` uses RDS and S3 with IRSA. Either way the rest of the
tier sees the same :class:`DataPlane`, so lakeFS, the metastore and Dagster are declared once.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.config.tier import TierConfig
from components.tier.lakefs_server import AwsS3Blockstore, MinioBlockstore
from components.tier.minio import LocalObjectStore, LocalObjectStoreArgs
from components.tier.postgres_bootstrap import PostgresDatabase, SslMode
from components.tier.postgres_local import LocalPostgres, LocalPostgresArgs

DATABASES = ("lakefs", "metastore", "dagster")
METASTORE_READER = "metastore_reader"
"""Read-only role on the metastore database, with which sandboxes copy the tier's catalog."""
READERS = {METASTORE_READER: "metastore"}
LAKEFS_SERVICE_ACCOUNT = "lakefs"
LAKEFS_BUCKET = "lakefs"


@dataclass(frozen=True)
class DataPlane:
    """What the tier's services need from the platform."""

    postgres_host: pulumi.Output[str]
    databases: dict[str, PostgresDatabase]
    """Per consumer (:data:`DATABASES`): its own login role, password, database and credentials Secret."""
    postgres_sslmode: SslMode
    """What every Postgres client must use: ``disable`` in the cluster, ``require`` on RDS."""
    blockstore: MinioBlockstore | AwsS3Blockstore
    storage_namespace: pulumi.Output[str]
    readers: dict[str, PostgresDatabase]
    """Per read-only role (:data:`READERS`): the database it reads and its credentials."""

    @property
    def postgres_params(self) -> dict[str, str]:
        """Connection parameters beyond the client defaults (Dagster's ``postgresqlParams``, JDBC)."""
        return {} if self.postgres_sslmode == "disable" else {"sslmode": self.postgres_sslmode}


def local_data_plane(
    name: str, config: TierConfig, namespace: str, opts: pulumi.ResourceOptions
) -> DataPlane:
    """In-cluster Postgres and MinIO."""
    postgres = LocalPostgres(
        f"{name}-postgres",
        LocalPostgresArgs(
            namespace=namespace,
            version=config.versions.postgres,
            databases=list(DATABASES),
            storage_size=config.sizes.postgres_volume,
            image_registry=config.images.registry,
            protect=config.protect,
            readers=READERS,
        ),
        opts=opts,
    )
    store = LocalObjectStore(
        f"{name}-objects",
        LocalObjectStoreArgs(
            namespace=namespace,
            version=config.versions.minio,
            bucket=LAKEFS_BUCKET,
            storage_size=config.sizes.object_store_volume,
            image_registry=config.images.registry,
            protect=config.protect,
        ),
        opts=opts,
    )
    return DataPlane(
        postgres_host=postgres.host,
        databases=postgres.databases,
        postgres_sslmode="disable",
        blockstore=MinioBlockstore(
            endpoint=store.endpoint,
            access_key_id=store.access_key_id,
            secret_access_key=store.secret_access_key,
        ),
        storage_namespace=pulumi.Output.from_input(f"s3://{store.bucket}/{config.lakefs.repository}"),
        readers=postgres.readers,
    )
