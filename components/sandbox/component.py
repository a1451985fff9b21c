"""The Sandbox component: root of every per-branch sandbox stack.

It reads the tier's contract, then declares, all in the sandbox's own namespace: the namespace with
its caps and isolation, the lakeFS credentials Secret and wiring ConfigMap for pipeline code, the
zero-copy lakeFS branch, an isolated Dagster running the branch's code and (``sandbox:metastore``
isolated, the default) its own Hive metastore seeded from the tier's onto the branch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster import kubernetes_provider
from components.config import SandboxStackConfig
from components.config.sandbox import MetastoreMode
from components.gitinfo import has_remote_tracking_branch
from components.k8s import PART_OF, opaque_secret, pod_security_admission_labels, standard_labels
from components.k8s.names import service_host
from components.lakefs import Branch, BranchArgs, BranchDeleteGuard, BranchDeleteGuardArgs, LakeFSConnection
from components.sandbox.catalog import METASTORE, SandboxCatalog, SandboxCatalogArgs, TierCatalog
from components.sandbox.dag_deployment import SandboxDagster, SandboxDagsterArgs, split_image
from components.sandbox.lease import SandboxLease
from components.sandbox.place import ANNOTATION_PREFIX, SandboxPlace, SandboxPlaceArgs
from components.sandbox.tier_link import TierLink, link_tier
from components.stackref import qualify_stack_name
from components.tier.dagster_host import instigator_flags
from components.tier.metastore import PORT as METASTORE_PORT
from components.tier.postgres_local import LocalPostgres

CREDENTIALS_SECRET = "lakefs-credentials"  # noqa: S105 - a Secret object name, not a password
WIRING_CONFIG_MAP = "pipeline-wiring"
METASTORE_DATABASE = "metastore"
"""The sandbox metastore's database, beside the Dagster run storage on the sandbox's Postgres."""


@dataclass(frozen=True)
class SandboxArgs:
    """Inputs of :class:`Sandbox`."""

    settings: SandboxStackConfig


class Sandbox(pulumi.ComponentResource):
    """A pipeline sandbox for one git branch."""

    expires_at: pulumi.Output[str]
    """When the sandbox should be reclaimed (first creation + ttl), ISO 8601 with UTC offset."""
    source_ref: pulumi.Output[str]
    """The lakeFS ref the data snapshot was taken from."""
    source_commit: pulumi.Output[str]
    """The commit the sandbox's lakeFS branch was created at (the pinned snapshot)."""

    def __init__(self, name: str, args: SandboxArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-sandbox:sandbox:Sandbox", name, None, opts)
        self._settings = settings = args.settings
        self._names = settings.names
        tier_stack = qualify_stack_name(settings.config.tier, pulumi.get_organization(), pulumi.get_project())
        self._isolated = settings.config.metastore is MetastoreMode.ISOLATED
        # Asked of local git at deploy time (no fetch): gc calls a branch "gone" from the remote only
        # if it was known to be there, so a sandbox of a never-pushed branch is not reclaimed as gone.
        self.git_branch_pushed = (
            has_remote_tracking_branch(settings.checkout.directory, settings.git_branch) is True
        )
        self.catalog: SandboxCatalog | None = None
        self.tier = link_tier(
            f"{name}-tier", tier_stack, catalog=self._isolated, opts=pulumi.ResourceOptions(parent=self)
        )
        self.lease = self._create_lease(name)
        self.expires_at = self.lease.expiresAt
        self.expires_at.apply(self._warn_if_expired)
        self.source_ref = (
            pulumi.Output.from_input(settings.config.source_ref)
            if settings.config.source_ref
            else self.tier.get("lakefsDefaultBranch")
        )
        self.data = self._create_data_branch(name)
        self.source_commit = self.data.source_commit
        # Nothing touches the cluster until the tier's contract checks out.
        self.provider = kubernetes_provider(
            f"{name}-kubernetes",
            settings.config.kubernetes,
            gate=self.tier.ready,
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_cluster = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.place = self._create_place(name, in_cluster)
        # Namespaced objects take the namespace from the place, which resolves only once the namespace,
        # quota, limits and network policy exist: the ordering travels with the value.
        self.namespace = self.place.namespace
        credentials = self._create_credentials(name, self.tier, in_cluster)
        wiring = self.wiring()
        wiring_map = self._create_wiring(name, wiring, in_cluster)
        self.dagster = self._create_dagster(name, credentials, wiring, in_cluster)
        everything: list[pulumi.Resource] = [
            self.lease, self.data, self.provider, self.place, credentials, wiring_map, self.dagster
        ]  # fmt: skip
        if self.catalog is not None:
            everything.append(self.catalog)
        self.delete_guard = self._create_delete_guard(name, everything)
        self.register_outputs(self.stack_outputs())

    def _create_lease(self, name: str) -> SandboxLease:
        settings = self._settings
        return SandboxLease(
            f"{name}-lease",
            git_branch=settings.git_branch,
            branch_is_explicit=settings.branch_is_explicit,
            owner=settings.owner,
            ttl=settings.config.ttl,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _lakefs_connection(self) -> LakeFSConnection:
        return LakeFSConnection(
            endpoint=self.tier.get("lakefsEndpoint"),
            access_key_id=self.tier.secret("lakefsAccessKeyId"),
            secret_access_key=self.tier.secret("lakefsSecretAccessKey"),
        )

    def _create_data_branch(self, name: str) -> Branch:
        # Zero-copy: a lakeFS branch is a pointer to a commit, whatever the data's size. Destroy goes
        # through the provider's safe delete (refuses uncommitted changes, archives the head). Create
        # refuses a tier whose default branch is unprotected: this sandbox holds the tier's admin key.
        config = self._settings.config
        return Branch(
            f"{name}-data",
            BranchArgs(
                connection=self._lakefs_connection(),
                repository=self.tier.get("lakefsRepository"),
                branch=self._names.lakefs_branch,
                source_ref=self.source_ref,
                discard_uncommitted=config.discard_uncommitted,
                archive=config.archive,
                require_protected_default=True,
                tier_stack=self.tier.stack,
            ),
            # The lease's branch guard runs first: a foreign checkout must not touch the data.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.lease]),
        )

    def _create_place(self, name: str, opts: pulumi.ResourceOptions) -> SandboxPlace:
        settings = self._settings
        labels = {
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": "pulumi",
            f"{ANNOTATION_PREFIX}/kind": "sandbox",
            f"{ANNOTATION_PREFIX}/sandbox": self._names.label_value,
            **pod_security_admission_labels(settings.config.kubernetes.version),
        }
        annotations: dict[str, pulumi.Input[str]] = {
            f"{ANNOTATION_PREFIX}/git-branch": settings.git_branch,
            f"{ANNOTATION_PREFIX}/owner": settings.owner,
            f"{ANNOTATION_PREFIX}/expires-at": self.expires_at,
            f"{ANNOTATION_PREFIX}/tier": self.tier.stack,
            f"{ANNOTATION_PREFIX}/lakefs-branch": self._names.lakefs_branch,
        }
        # Nothing here may come from the lakeFS branch: when a newer snapshot replaces the branch
        # (delete-before-replace), the engine replaces every resource with an input from it, and
        # replacing the namespace deletes everything in it. The snapshot's commit is in the wiring.
        if settings.commit:
            annotations[f"{ANNOTATION_PREFIX}/git-commit"] = settings.commit
        return SandboxPlace(
            f"{name}-place",
            SandboxPlaceArgs(
                namespace=self._names.namespace,
                labels=labels,
                annotations=annotations,
                quota=settings.config.quota,
            ),
            opts=opts,
        )

    def _create_credentials(
        self, name: str, tier: TierLink, opts: pulumi.ResourceOptions
    ) -> k8s.core.v1.Secret:
        # Pipeline code gets lakeFS credentials only through this Secret, never as plain env values.
        return opaque_secret(
            f"{name}-lakefs-credentials",
            name=CREDENTIALS_SECRET,
            namespace=self.namespace,
            labels=standard_labels("pipeline", "lakefs-credentials", name),
            string_data={
                "LAKEFS_ACCESS_KEY_ID": tier.secret("lakefsAccessKeyId"),
                "LAKEFS_SECRET_ACCESS_KEY": tier.secret("lakefsSecretAccessKey"),
            },
            opts=opts,
        )

    def wiring(self) -> dict[str, pulumi.Input[str]]:
        """The plain part of the wiring contract every code location and run pod receives."""
        wiring: dict[str, pulumi.Input[str]] = {
            "LAKEFS_ENDPOINT": self.tier.get("lakefsInternalEndpoint"),
            "LAKEFS_REPOSITORY": self.tier.get("lakefsRepository"),
            "LAKEFS_BRANCH": self._names.lakefs_branch,
            "LAKEFS_SOURCE_COMMIT": self.source_commit,
            "HIVE_METASTORE_URI": self.metastore_uri(),
            "PIPELINE_SANDBOX": self._names.namespace,
            "PIPELINE_GIT_BRANCH": self._settings.git_branch,
            **instigator_flags(self._settings.config.schedules, self._settings.config.sensors),
        }
        if self._settings.config.metastore is MetastoreMode.NONE:
            del wiring["HIVE_METASTORE_URI"]
        return wiring

    def metastore_uri(self) -> pulumi.Input[str]:
        """The sandbox's own metastore when isolated (its Service's fixed name), else the tier's."""
        if self._isolated:
            return pulumi.Output.concat(
                "thrift://", service_host(METASTORE, self._names.namespace), f":{METASTORE_PORT}"
            )
        return self.tier.get("metastoreUri")

    def _create_catalog(self, name: str, postgres: LocalPostgres) -> dict[str, pulumi.Input[str]]:
        """Declares the sandbox's metastore on ``postgres``; the code location waits for its URI."""
        versions = self.tier.get("versions")
        self.catalog = SandboxCatalog(
            f"{name}-catalog",
            SandboxCatalogArgs(
                namespace=self.namespace,
                tier=TierCatalog(
                    database=self.tier.get("metastoreDatabase"),
                    reader_username=self.tier.secret("metastoreReaderUsername"),
                    reader_password=self.tier.secret("metastoreReaderPassword"),
                    metastore_version=versions.apply(lambda v: v["metastore"]),
                    postgres_version=versions.apply(lambda v: v["postgres"]),
                ),
                # The seed waits for the Job that creates the metastore database and its role.
                postgres_host=pulumi.Output.all(
                    postgres.host, *([postgres.bootstrap_job.id] if postgres.bootstrap_job else [])
                ).apply(lambda parts: str(parts[0])),
                database=postgres.databases[METASTORE_DATABASE],
                repository=self.tier.get("lakefsRepository"),
                source_ref=self.source_ref,
                source_commit=self.source_commit,
                branch=self._names.lakefs_branch,
                include_databases=self._settings.config.metastore_databases,
                image_registry=self.tier.get("imageRegistry"),
                maven_repository=self.tier.get("mavenRepository"),
                paused=self._settings.config.paused,
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        return {"HIVE_METASTORE_URI": self.catalog.uri}

    def _create_wiring(
        self, name: str, wiring: dict[str, pulumi.Input[str]], opts: pulumi.ResourceOptions
    ) -> k8s.core.v1.ConfigMap:
        return k8s.core.v1.ConfigMap(
            f"{name}-wiring",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=WIRING_CONFIG_MAP, namespace=self.namespace),
            data=wiring,
            opts=opts,
        )

    def _code_image(self) -> tuple[pulumi.Input[str], pulumi.Input[str]]:
        """``sandbox:image``, else the tier's code image tagged with the checked-out commit."""
        settings = self._settings
        if settings.config.image:
            return split_image(settings.config.image)
        if settings.commit is None:  # the loader refuses this combination; this keeps mypy honest
            raise ValueError("sandbox:image is required when the git commit is unknown")
        return self.tier.get("codeImageRepository"), settings.commit

    def _create_dagster(
        self,
        name: str,
        credentials: k8s.core.v1.Secret,
        wiring: dict[str, pulumi.Input[str]],
        opts: pulumi.ResourceOptions,
    ) -> SandboxDagster:
        config = self._settings.config
        image_repository, image_tag = self._code_image()
        versions = self.tier.get("versions")
        return SandboxDagster(
            f"{name}-dagster",
            SandboxDagsterArgs(
                namespace=self.namespace,
                dagster_version=versions.apply(lambda v: v["dagster"]),
                postgres_version=versions.apply(lambda v: v["postgres"]),
                image_repository=image_repository,
                image_tag=image_tag,
                module=self.tier.get("codeModule"),
                wiring=wiring,
                # The name as an Output of the Secret: the chart waits for the Secret it references.
                credentials_secret=credentials.metadata.name,
                schedules=config.schedules,
                sensors=config.sensors,
                paused=config.paused,
                kubectl_context=config.kubernetes.context,
                kubeconfig=config.kubernetes.kubeconfig,
                # Installs the Dagster chart and pulls images the way the tier does.
                chart_source=self.tier.get("dagsterChart"),
                image_registry=self.tier.get("imageRegistry"),
                more_databases=[METASTORE_DATABASE] if self._isolated else [],
                before_code_location=(lambda pg: self._create_catalog(name, pg)) if self._isolated else None,
            ),
            opts=opts,
        )

    def _create_delete_guard(self, name: str, everything: list[pulumi.Resource]) -> BranchDeleteGuard:
        # Declared last and depending on every other resource (components expand to their children,
        # the Dagster chart to its rendered objects), so the engine deletes it first: a destroy or a
        # snapshot replacement that the branch would refuse is refused before anything else moves.
        return BranchDeleteGuard(
            f"{name}-delete-guard",
            BranchDeleteGuardArgs(
                connection=self._lakefs_connection(),
                repository=self.data.repository,
                branch=self.data.branch,
                source_commit=self.data.source_commit,
                discard_uncommitted=self._settings.config.discard_uncommitted,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=everything),
        )

    def _warn_if_expired(self, expires_at: str | None) -> None:
        if expires_at and datetime.fromisoformat(expires_at) <= datetime.now(UTC):
            pulumi.log.warn(
                f"sandbox {self._names.namespace} expired at {expires_at}; reclaim it with "
                "`pulumi destroy`, or extend it with `pulumi config set sandbox:ttl <longer>`",
                self,
            )

    def stack_outputs(self) -> dict[str, Any]:
        """The stack outputs of a sandbox stack (camelCase, the contract users script against)."""
        return {
            "gitBranch": self._settings.git_branch,
            "gitBranchPushed": self.git_branch_pushed,
            # The checkout's HEAD (the default image's tag): pause/resume refuse to redeploy another.
            **({"gitCommit": self._settings.commit} if self._settings.commit else {}),
            "lakefsBranch": self._names.lakefs_branch,
            "sourceRef": self.source_ref,
            "sourceCommit": self.source_commit,
            "namespace": self._names.namespace,
            "owner": self._settings.owner,
            "expiresAt": self.expires_at,
            "dagsterUrl": self.dagster.url_port_forward_command,
            **self._metastore_outputs(),
            "createdAt": self.lease.createdAt,
            "paused": self._settings.config.paused,
            # What a destroy from this state does with uncommitted changes: gc reads it, since the
            # state's value, not the (maybe absent) local config, is what `pulumi destroy` uses.
            "discardUncommitted": self._settings.config.discard_uncommitted,
            "tier": self.tier.stack,
        }

    def _metastore_outputs(self) -> dict[str, Any]:
        mode = self._settings.config.metastore
        outputs: dict[str, Any] = {"metastore": mode.value}
        if mode is not MetastoreMode.NONE:
            outputs["metastoreUri"] = self.metastore_uri()
        if self.catalog is not None:
            context = self._settings.config.kubernetes.context
            outputs["metastoreSeedLog"] = pulumi.Output.concat(
                "kubectl ", f"--context {context} " if context else "", "-n ", self._names.namespace,
                " logs job/", self.catalog.seed_job_name,
            )  # fmt: skip
        return outputs
