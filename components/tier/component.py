"""The Tier component: root of the shared-tier stacks (dev, stage, prod).

Declares, in the tier namespace and through one explicit Kubernetes provider: the data plane
(Postgres + object storage, per platform), lakeFS (chart, first-run setup, the pipeline repository
and protection of its default branch), the Hive metastore and the Dagster host running the
production code location. Stacks with ``tier:promoteFrom`` are gated: the provider only exists once
every requested version is known to run on the source stack.

lakeFS's admin key pair is generated, unless ``tier:lakefs`` gives the pair of a lakeFS that is
already set up; the repository's storage namespace is in the tier's object store unless
``tier:lakefs.storageNamespace`` names an existing repository's. The lakeFS part of the output
contract resolves only once lakeFS accepted the key pair, the repository exists and its default
branch is protected, so a tier whose ``pulumi up`` failed there publishes none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.cluster import kubernetes_provider
from components.config import Platform, TierStackConfig
from components.config.tier import LAKEFS_SETTINGS
from components.k8s import pod_security_admission_labels
from components.k8s.labels import standard_labels
from components.lakefs import (
    BranchProtection,
    BranchProtectionArgs,
    LakeFSSetup,
    LakeFSSetupArgs,
    Repository,
    RepositoryArgs,
)
from components.stackref import qualify_stack_name
from components.tier.dagster_host import (
    CODE_LOCATION,
    CodeLocation,
    DagsterHost,
    DagsterHostArgs,
    PostgresConnection,
)
from components.tier.data_plane import METASTORE_READER, DataPlane, local_data_plane
from components.tier.lakefs_server import LakeFSServer, LakeFSServerArgs
from components.tier.metastore import HiveMetastore, HiveMetastoreArgs, JdbcDriver, MetastoreDatabase
from components.tier.promotion import promotion_gate


def _secret(value: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.secret(value)


@dataclass(frozen=True)
class TierArgs:
    """Inputs of :class:`Tier`."""

    stack: str
    settings: TierStackConfig


class Tier(pulumi.ComponentResource):
    """The shared tier: infrastructure every sandbox of this environment builds on."""

    lakefs_internal_endpoint: pulumi.Output[str]
    """URL pods use to reach lakeFS."""
    metastore_uri: pulumi.Output[str]
    """Thrift URI of the Hive metastore."""
    lakefs_contract: dict[str, pulumi.Input[str]]
    """The lakeFS outputs sandboxes need: repository, default branch and the admin key pair."""

    def __init__(self, name: str, args: TierArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-sandbox:tier:Tier", name, None, opts)
        self._config = config = args.settings.config
        self._charts = args.settings.charts
        self._namespace = config.resolved_namespace
        organization, project = pulumi.get_organization(), pulumi.get_project()
        requested = config.versions.model_dump(by_alias=True)
        self.versions: pulumi.Output[Any] = pulumi.Output.from_input(requested)
        if config.promote_from:
            self.versions = promotion_gate(
                qualify_stack_name(args.stack, organization, project),
                qualify_stack_name(config.promote_from, organization, project),
                requested,
                opts=pulumi.ResourceOptions(parent=self),
            )
        # Every Kubernetes object waits for the gate: a refused version changes nothing.
        provider = kubernetes_provider(
            f"{name}-kubernetes",
            config.kubernetes,
            gate=self.versions if config.promote_from else None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=self._namespace,
                labels={
                    **standard_labels("pipeline-tier", "namespace", name),
                    **pod_security_admission_labels(config.kubernetes.version),
                },
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        in_namespace = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[namespace])
        data = self._create_data_plane(name, in_namespace)
        self._storage_namespace = data.storage_namespace
        self.lakefs = self._create_lakefs(name, data, in_namespace)
        self.lakefs_internal_endpoint = self.lakefs.internal_endpoint
        self._create_lakefs_repository(name)
        self.metastore = HiveMetastore(
            f"{name}-metastore",
            HiveMetastoreArgs(
                namespace=self._namespace,
                version=config.versions.metastore,
                database=MetastoreDatabase(
                    host=data.postgres_host,
                    database="metastore",
                    credentials_secret_name=data.databases["metastore"].secret_name,
                    params=data.postgres_params,
                ),
                jdbc_driver=JdbcDriver(repository=config.images.maven_repository),
                image_registry=config.images.registry,
            ),
            opts=in_namespace,
        )
        self.metastore_uri = self.metastore.uri
        self._metastore_database = {
            "host": data.postgres_host,
            "port": 5432,
            "name": "metastore",
            "sslmode": data.postgres_sslmode,
        }
        self._metastore_reader = data.readers[METASTORE_READER]
        self.dagster = self._create_dagster(name, data, in_namespace)
        self.register_outputs(self.stack_outputs())

    def _create_data_plane(self, name: str, opts: pulumi.ResourceOptions) -> DataPlane:
        if self._config.platform is Platform.AWS:
            # Imported here only: sandbox stacks and local tiers never load the AWS SDK.
            from components.tier.aws_data_plane import aws_data_plane  # noqa: PLC0415 - lazy by design

            return aws_data_plane(name, self._config, self._namespace, opts)
        return local_data_plane(name, self._config, self._namespace, opts)

    def _create_lakefs(self, name: str, data: DataPlane, opts: pulumi.ResourceOptions) -> LakeFSServer:
        lakefs_db = data.databases["lakefs"]
        connection_string = _secret(
            pulumi.Output.format(
                "postgres://{0}:{1}@{2}:5432/{3}?sslmode={4}",
                lakefs_db.user,
                lakefs_db.password,
                data.postgres_host,
                lakefs_db.name,
                data.postgres_sslmode,
            )
        )
        self.lakefs_access_key_id, self.lakefs_secret_access_key = self._admin_key_pair(name)
        return LakeFSServer(
            f"{name}-lakefs",
            LakeFSServerArgs(
                namespace=self._namespace,
                chart_version=self._config.versions.lakefs_chart,
                image_tag=self._config.versions.lakefs,
                database_connection_string=connection_string,
                blockstore=data.blockstore,
                replicas=self._config.lakefs.replicas,
                chart=self._charts["lakefs"],
                image_registry=self._config.images.registry,
            ),
            opts=opts,
        )

    def _admin_key_pair(self, name: str) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """``tier:lakefs``'s key pair of an existing lakeFS (secret config), else a generated one."""
        settings = self._config.lakefs
        if settings.access_key_id is not None and settings.secret_access_key is not None:
            return _secret(settings.access_key_id), _secret(settings.secret_access_key)
        key_id = random.RandomString(
            f"{name}-lakefs-admin-key-id",
            length=16,
            upper=True,
            lower=False,
            numeric=True,
            special=False,
            opts=pulumi.ResourceOptions(parent=self, protect=self._config.protect),
        )
        secret = random.RandomPassword(
            f"{name}-lakefs-admin-secret",
            length=40,
            special=False,
            opts=pulumi.ResourceOptions(parent=self, protect=self._config.protect),
        )
        return _secret(pulumi.Output.concat("AKIA", key_id.result)), _secret(secret.result)

    def _create_lakefs_repository(self, name: str) -> None:
        settings = self._config.lakefs
        self.lakefs_contract = {
            "lakefsRepository": settings.repository,
            "lakefsDefaultBranch": settings.default_branch,
            "lakefsAccessKeyId": self.lakefs_access_key_id,
            "lakefsSecretAccessKey": self.lakefs_secret_access_key,
        }
        if self._config.kubernetes.render_to:
            # Rendering manifests for GitOps: there is no server to set up or create a repository on.
            pulumi.log.info(
                "renderTo is set: lakeFS setup and the repository are left to the first real deploy", self
            )
            return
        # First-run setup with the admin key pair (an already set-up server is verified, never
        # reset); everything else talks to lakeFS through its connection, so it waits for it.
        setup = LakeFSSetup(
            f"{name}-lakefs-setup",
            LakeFSSetupArgs(
                endpoint=settings.endpoint,
                access_key_id=self.lakefs_access_key_id,
                secret_access_key=self.lakefs_secret_access_key,
                setting_names=LAKEFS_SETTINGS,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.lakefs]),
        )
        connection = setup.admin_connection
        repository = Repository(
            f"{name}-lakefs-repository",
            RepositoryArgs(
                connection=connection,
                name=settings.repository,
                storage_namespace=settings.storage_namespace or self._storage_namespace,
                default_branch=settings.default_branch,
                setting_names=LAKEFS_SETTINGS,
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=self._config.protect),
        )
        # Only merges reach production data: sandboxes write to their own branches. Protected like
        # the repository, so a partial destroy of prod cannot lift it before failing at the repository.
        protection = BranchProtection(
            f"{name}-lakefs-protection",
            BranchProtectionArgs(
                connection=connection, repository=settings.repository, patterns=[settings.default_branch]
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[repository], protect=self._config.protect),
        )
        # Published only once each step succeeded: sandboxes must not get a rejected key pair or
        # an unprotected repository from a tier whose `pulumi up` failed.
        self.lakefs_contract = {
            "lakefsRepository": repository.name,
            "lakefsDefaultBranch": protection.patterns.apply(lambda _: settings.default_branch),
            "lakefsAccessKeyId": _secret(connection.access_key_id),
            "lakefsSecretAccessKey": _secret(connection.secret_access_key),
        }

    def _create_dagster(self, name: str, data: DataPlane, opts: pulumi.ResourceOptions) -> DagsterHost:
        dagster_db = data.databases["dagster"]
        settings = self._config.dagster
        return DagsterHost(
            f"{name}-dagster",
            DagsterHostArgs(
                namespace=self._namespace,
                dagster_version=self._config.versions.dagster,
                code_location=CodeLocation(
                    name=CODE_LOCATION,
                    image_repository=settings.code_image_repository,
                    image_tag=settings.code_image_tag,
                    grpc_args=("--module-name", settings.module),
                ),
                postgres=PostgresConnection.to(data.postgres_host, dagster_db, data.postgres_params),
                # Production runs its schedules and sensors; sandboxes keep theirs off.
                schedules=True,
                sensors=True,
                kubectl_context=self._config.kubernetes.context,
                kubeconfig=self._config.kubernetes.kubeconfig,
                chart=self._charts["dagster"],
                image_registry=self._config.images.registry,
            ),
            opts=opts,
        )

    def stack_outputs(self) -> dict[str, Any]:
        """The tier's output contract, read by sandboxes through a StackReference."""
        config = self._config
        return {
            "environment": config.environment.value,
            "platform": config.platform.value,
            "namespace": self._namespace,
            "versions": self.versions,
            "lakefsEndpoint": config.lakefs.endpoint,
            "lakefsInternalEndpoint": self.lakefs_internal_endpoint,
            **self.lakefs_contract,
            "metastoreUri": self.metastore_uri,
            # What a sandbox needs to copy the catalog: where, and a read-only identity (secret).
            "metastoreDatabase": self._metastore_database,
            "metastoreReaderUsername": _secret(self._metastore_reader.user),
            "metastoreReaderPassword": self._metastore_reader.password,
            "codeImageRepository": config.dagster.code_image_repository,
            "codeModule": config.dagster.module,
            "dagsterUrl": self.dagster.url_port_forward_command,
            # Sandboxes install Dagster and pull images the way their tier does.
            "dagsterChart": config.charts.dagster,
            "imageRegistry": config.images.registry,
            "mavenRepository": config.images.maven_repository,
        }
