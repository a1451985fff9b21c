"""The ``aws`` data plane: RDS Postgres and an S3 bucket reached by lakeFS through IRSA.

Imported only on the aws path (``pulumi_aws`` is heavy and irrelevant to everything else).
One RDS server; each consumer (``lakefs``, ``metastore``, ``dagster``) gets its own login role,
generated password and database, created by an in-cluster Job (the official ``postgres`` image of the
engine's version, over TLS) that logs in as the RDS master user. The master password reaches the
cluster only in a Kubernetes Secret for that Job; consumers never see it.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config.tier import TierConfig
from components.images import pull_reference
from components.k8s import opaque_secret, standard_labels
from components.tier.aws_postgres import PORT, RdsPostgres, RdsPostgresArgs
from components.tier.aws_storage import S3ObjectStore, S3ObjectStoreArgs
from components.tier.data_plane import DATABASES, LAKEFS_SERVICE_ACCOUNT, READERS, DataPlane
from components.tier.lakefs_server import AwsS3Blockstore
from components.tier.postgres_bootstrap import (
    DatabaseBootstrap,
    DatabaseBootstrapArgs,
    bootstrap_databases,
    postgres_image,
)

RDS_ADMIN = "tier_admin"


def aws_data_plane(name: str, config: TierConfig, namespace: str, opts: pulumi.ResourceOptions) -> DataPlane:
    """RDS, S3 and the lakeFS IRSA role, through an explicit AWS provider for ``aws:region``."""
    settings = config.aws
    if settings is None:  # TierConfig's validator guarantees it; this keeps the type checker honest.
        raise ValueError("tier:aws is required when tier:platform is aws")
    # The bootstrap Job's psql matches the server: the engine version names an official image tag
    # (tier:versions.postgres, which config already holds to 15 or newer).
    client_image = pull_reference(postgres_image(config.versions.postgres), config.images.registry)
    region = pulumi.Config("aws").require("region")
    provider = aws.Provider(f"{name}-aws", region=region, opts=pulumi.ResourceOptions(parent=opts.parent))
    in_aws = pulumi.ResourceOptions(parent=opts.parent, provider=provider)
    store = S3ObjectStore(
        f"{name}-bucket",
        S3ObjectStoreArgs(
            bucket_prefix=settings.bucket_prefix,
            oidc_provider_arn=settings.cluster_oidc_provider_arn,
            oidc_issuer_url=settings.cluster_oidc_issuer_url,
            lakefs_namespace=namespace,
            lakefs_service_account=LAKEFS_SERVICE_ACCOUNT,
            kms_key_arn=settings.kms_key_arn,
            versioning=settings.bucket_versioning,
            noncurrent_version_retention_days=settings.noncurrent_version_retention_days,
            protect=config.protect,
            tags=settings.tags,
        ),
        opts=in_aws,
    )
    rds = settings.rds
    database = RdsPostgres(
        f"{name}-rds",
        RdsPostgresArgs(
            engine_version=config.versions.postgres,
            vpc_id=settings.vpc_id,
            subnet_ids=settings.subnet_ids,
            allowed_cidrs=settings.allowed_cidrs,
            allowed_security_group_ids=settings.allowed_security_group_ids,
            instance_class=rds.instance_class,
            storage_gb=rds.storage_gb,
            max_storage_gb=rds.max_storage_gb,
            backup_retention_days=rds.backup_retention_days,
            multi_az=rds.multi_az,
            deletion_protection=rds.deletion_protection,
            performance_insights=rds.performance_insights,
            apply_immediately=rds.apply_immediately,
            kms_key_arn=settings.kms_key_arn,
            admin_username=RDS_ADMIN,
            protect=config.protect,
            tags=settings.tags,
        ),
        opts=in_aws,
    )
    bootstrap = _bootstrap(f"{name}-rds", database, client_image, namespace, opts)
    assert bootstrap.job is not None  # DATABASES is not empty
    # Consumers read the host through the Job, so none starts before its role and database exist.
    host = pulumi.Output.all(database.host, bootstrap.job.id).apply(lambda resolved: str(resolved[0]))
    return DataPlane(
        postgres_host=host,
        databases=bootstrap.databases,
        postgres_sslmode="require",
        blockstore=AwsS3Blockstore(region=region, role_arn=store.lakefs_role_arn),
        storage_namespace=store.storage_namespace,
        readers=bootstrap.readers,
    )


def _bootstrap(
    name: str, database: RdsPostgres, image: str, namespace: str, opts: pulumi.ResourceOptions
) -> DatabaseBootstrap:
    """The consumers' roles and databases, created on RDS by an in-cluster Job as the master user."""
    labels = standard_labels("postgres", "database", name)
    admin = opaque_secret(
        f"{name}-admin",
        name=f"{name}-admin",
        namespace=namespace,
        labels=labels,
        string_data={"username": database.admin_username, "password": database.admin_password},
        opts=opts,
    )
    return bootstrap_databases(
        name,
        DatabaseBootstrapArgs(
            namespace=namespace,
            host=database.host,
            admin_username=RDS_ADMIN,
            admin_password_secret_name=admin.metadata.name,
            image=image,
            databases=DATABASES,
            labels=labels,
            port=PORT,
            # The parameter group sets rds.force_ssl; the RDS CA is not in the image, so no verify-full.
            sslmode="require",
            depends_on=[database],
            readers=READERS,
        ),
        opts,
    )
