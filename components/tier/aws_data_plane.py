"""The ``aws`` data plane: RDS Postgres and an S3 bucket reached by lakeFS through IRSA.

Imported only on the aws path (``pulumi_aws`` is heavy and irrelevant to everything else).
Consumers log in with the RDS admin role to their own database (``lakefs``, ``metastore``,
``dagster``); creating those databases and per-consumer roles on RDS with an in-cluster Job is not
built yet (see README, "Known gaps").
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config.tier import TierConfig
from components.k8s import opaque_secret, standard_labels
from components.tier.aws_postgres import RdsPostgres, RdsPostgresArgs
from components.tier.aws_storage import S3ObjectStore, S3ObjectStoreArgs
from components.tier.data_plane import DATABASES, LAKEFS_SERVICE_ACCOUNT, DataPlane
from components.tier.lakefs_server import AwsS3Blockstore
from components.tier.postgres_local import PostgresDatabase

RDS_ADMIN = "tier_admin"


def aws_data_plane(name: str, config: TierConfig, namespace: str, opts: pulumi.ResourceOptions) -> DataPlane:
    """RDS, S3 and the lakeFS IRSA role, through an explicit AWS provider for ``aws:region``."""
    settings = config.aws
    if settings is None:  # TierConfig's validator guarantees it; this keeps the type checker honest.
        raise ValueError("tier:aws is required when tier:platform is aws")
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
    databases = {db: _consumer(name, db, database, namespace, opts) for db in DATABASES}
    return DataPlane(
        postgres_host=database.host,
        databases=databases,
        blockstore=AwsS3Blockstore(region=region, role_arn=store.lakefs_role_arn),
        storage_namespace=store.storage_namespace,
    )


def _consumer(
    name: str, db: str, database: RdsPostgres, namespace: str, opts: pulumi.ResourceOptions
) -> PostgresDatabase:
    secret_name = f"{name}-rds-{db}"
    opaque_secret(
        f"{name}-rds-{db}",
        name=secret_name,
        namespace=namespace,
        labels=standard_labels("postgres", "database", f"{name}-rds"),
        string_data={
            "username": RDS_ADMIN,
            "password": database.admin_password,
            "postgresql-password": database.admin_password,
        },
        opts=opts,
    )
    return PostgresDatabase(
        name=db,
        user=RDS_ADMIN,
        password=database.admin_password,  # already secret
        secret_name=secret_name,
    )
