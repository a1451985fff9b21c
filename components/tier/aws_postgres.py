"""RdsPostgres: the shared tier's Postgres server on Amazon RDS.

Creates a DB subnet group, a security group admitting 5432 only from named CIDRs or security groups,
a parameter group that refuses non-TLS connections, a generated admin password, and one encrypted,
private RDS Postgres instance. Imports ``pulumi_aws``: import this module only on the aws path.

The per-service databases and users (lakefs, metastore, dagster) are not created here: Pulumi has no
route into a private VPC. An in-cluster Kubernetes Job (the tier-k8s bootstrap Job, as for the local
platform) creates them idempotently from :attr:`RdsPostgres.host`, :attr:`RdsPostgres.port`,
:attr:`RdsPostgres.admin_username` and :attr:`RdsPostgres.admin_password`, which it receives in a
Kubernetes Secret. Clients must connect with ``sslmode=require`` (or ``verify-full`` with the RDS CA).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.config.aws import RDS_ENGINE_VERSION, ingress_cidr_problem, rds_engine_version_problem
from components.k8s.labels import cloud_tags

PORT = 5432
_USERNAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_RESERVED_USERNAMES = {"postgres", "rdsadmin", "admin", "rdsrepladmin", "public"}


@dataclass(frozen=True)
class RdsPostgresArgs:
    """Inputs of :class:`RdsPostgres`.

    Attributes:
        engine_version: Pinned RDS Postgres engine version, ``<major>.<minor>`` (e.g. ``16.4``).
        vpc_id: VPC of the subnets.
        subnet_ids: Private subnets in at least two availability zones.
        allowed_cidrs: CIDR blocks that may connect on 5432; never a /0.
        allowed_security_group_ids: Security groups (e.g. EKS nodes') that may connect on 5432.
        instance_class: RDS instance class.
        storage_gb: Allocated gp3 storage in GiB.
        max_storage_gb: Storage autoscaling ceiling in GiB; None turns autoscaling off.
        backup_retention_days: Days of automated backups (1-35).
        multi_az: Keep a synchronous standby in a second AZ.
        deletion_protection: Make RDS refuse to delete the instance.
        performance_insights: Enable Performance Insights (7-day retention).
        apply_immediately: Apply modifications now rather than in the maintenance window.
        kms_key_arn: Customer-managed KMS key for storage encryption; None uses the AWS-managed key.
        admin_username: Master user name.
        protect: Protect the instance from ``pulumi destroy`` (true in prod).
        tags: AWS tags for every resource that takes them.
    """

    engine_version: str
    vpc_id: str
    subnet_ids: Sequence[str]
    allowed_cidrs: Sequence[str] = ()
    allowed_security_group_ids: Sequence[str] = ()
    instance_class: str = "db.t4g.medium"
    storage_gb: int = 20
    max_storage_gb: int | None = None
    backup_retention_days: int = 7
    multi_az: bool = False
    deletion_protection: bool = True
    performance_insights: bool = False
    apply_immediately: bool = False
    kms_key_arn: str | None = None
    admin_username: str = "tier_admin"
    protect: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = [p for p in map(ingress_cidr_problem, self.allowed_cidrs) if p]
        if not self.allowed_cidrs and not self.allowed_security_group_ids:
            problems.append("give allowed_cidrs or allowed_security_group_ids; nothing could connect")
        version_problem = rds_engine_version_problem(self.engine_version)
        if version_problem:
            problems.append(f"engine_version: {version_problem}")
        if len(self.subnet_ids) < 2:
            problems.append("subnet_ids needs at least two subnets (RDS requires two AZs)")
        if not 1 <= self.backup_retention_days <= 35:
            problems.append(f"backup_retention_days must be 1-35, got {self.backup_retention_days}")
        if not _USERNAME.match(self.admin_username) or self.admin_username in _RESERVED_USERNAMES:
            problems.append(f"admin_username is not a usable RDS master user name: {self.admin_username!r}")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def parameter_group_family(self) -> str:
        """The parameter group family of the engine's major version, e.g. ``postgres16``."""
        match = RDS_ENGINE_VERSION.match(self.engine_version)
        assert match is not None  # checked in __post_init__
        return f"postgres{match.group('major')}"


class RdsPostgres(pulumi.ComponentResource):
    """One private, encrypted RDS Postgres instance serving every shared-tier database."""

    host: pulumi.Output[str]
    """DNS name of the instance (no port)."""
    port: pulumi.Output[int]
    """Port Postgres listens on."""
    admin_username: pulumi.Output[str]
    """Master user name, for the in-cluster bootstrap Job."""
    admin_password: pulumi.Output[str]
    """Master password (secret), for the in-cluster bootstrap Job's Kubernetes Secret."""
    security_group_id: pulumi.Output[str]
    """Security group of the instance."""

    def __init__(self, name: str, args: RdsPostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-sandbox:tier:RdsPostgres", name, None, opts)
        self._name = name
        self._args = args
        self._tags = cloud_tags(args.tags)

        subnet_group = self._create_subnet_group()
        security_group = self._create_security_group()
        parameter_group = self._create_parameter_group()
        password = self._create_password()
        instance = self._create_instance(subnet_group, security_group, parameter_group, password)

        self.host = instance.address
        self.port = instance.port
        self.admin_username = instance.username
        self.admin_password = password
        self.security_group_id = security_group.id
        self.register_outputs(
            {
                "host": self.host,
                "port": self.port,
                "admin_username": self.admin_username,
                "admin_password": self.admin_password,
                "security_group_id": self.security_group_id,
            }
        )

    def _child(self, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **extra)

    def _create_subnet_group(self) -> aws.rds.SubnetGroup:
        return aws.rds.SubnetGroup(
            f"{self._name}-subnets",
            description="pipeline-sandbox shared tier Postgres",
            subnet_ids=list(self._args.subnet_ids),
            tags=self._tags,
            opts=self._child(),
        )

    def _create_security_group(self) -> aws.ec2.SecurityGroup:
        args = self._args
        ipv4 = [c for c in args.allowed_cidrs if ":" not in c]
        ipv6 = [c for c in args.allowed_cidrs if ":" in c]
        # No egress rules: the provider removes AWS's default allow-all egress, and Postgres
        # needs none to answer its clients.
        return aws.ec2.SecurityGroup(
            f"{self._name}-sg",
            description="Postgres from the tier cluster only",
            vpc_id=args.vpc_id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="Postgres from the tier cluster",
                    protocol="tcp",
                    from_port=PORT,
                    to_port=PORT,
                    cidr_blocks=ipv4 or None,
                    ipv6_cidr_blocks=ipv6 or None,
                    security_groups=list(args.allowed_security_group_ids) or None,
                )
            ],
            egress=[],
            revoke_rules_on_delete=True,
            tags=self._tags,
            opts=self._child(),
        )

    def _create_parameter_group(self) -> aws.rds.ParameterGroup:
        return aws.rds.ParameterGroup(
            f"{self._name}-params",
            description="pipeline-sandbox shared tier Postgres: TLS only",
            family=self._args.parameter_group_family,
            parameters=[aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1")],
            tags=self._tags,
            opts=self._child(),
        )

    def _create_password(self) -> pulumi.Output[str]:
        # A Pulumi-generated password rather than manage_master_user_password: consumers get it as
        # a Kubernetes Secret from this program, without Secrets Manager access or a sync operator.
        # Letters and digits only, so it can go into URLs and JDBC strings unescaped (~238 bits).
        password = random.RandomPassword(
            f"{self._name}-admin-password", length=40, special=False, opts=self._child()
        )
        # Marked secret here as well, so no consumer depends on the provider's secret-output list.
        return pulumi.Output.secret(password.result)

    def _create_final_snapshot_id(self) -> pulumi.Output[str]:
        # Final snapshot names are account-wide; a random suffix lets a destroyed-and-recreated
        # stack take its own final snapshot instead of colliding with the previous one.
        suffix = random.RandomId(f"{self._name}-final-snapshot-suffix", byte_length=4, opts=self._child())
        return pulumi.Output.concat(self._name, "-final-", suffix.hex)

    def _create_instance(
        self,
        subnet_group: aws.rds.SubnetGroup,
        security_group: aws.ec2.SecurityGroup,
        parameter_group: aws.rds.ParameterGroup,
        password: pulumi.Output[str],
    ) -> aws.rds.Instance:
        args = self._args
        return aws.rds.Instance(
            f"{self._name}-instance",
            engine="postgres",
            engine_version=args.engine_version,
            # Versions are pinned in config and promoted through stage; AWS must not move them.
            auto_minor_version_upgrade=False,
            # A major version change only ever arrives through that same promoted config.
            allow_major_version_upgrade=True,
            instance_class=args.instance_class,
            storage_type="gp3",
            allocated_storage=args.storage_gb,
            max_allocated_storage=args.max_storage_gb,
            storage_encrypted=True,
            kms_key_id=args.kms_key_arn,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameter_group.name,
            publicly_accessible=False,
            port=PORT,
            username=args.admin_username,
            password=password,
            iam_database_authentication_enabled=True,
            multi_az=args.multi_az,
            backup_retention_period=args.backup_retention_days,
            copy_tags_to_snapshot=True,
            delete_automated_backups=False,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=self._create_final_snapshot_id(),
            performance_insights_enabled=args.performance_insights,
            performance_insights_retention_period=7 if args.performance_insights else None,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            apply_immediately=args.apply_immediately,
            tags=self._tags,
            opts=self._child(protect=args.protect),
        )
