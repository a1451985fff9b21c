"""A Dagster host: the official ``dagster`` Helm chart, pinned to the Dagster version, in one namespace.

Creates the Postgres password Secret the chart reads (``global.postgresqlSecretName``, key
``postgresql-password``; the chart's own generated Secret is off) and the chart itself
(``helm.v4.Chart``). The chart brings the webserver, the daemon with the ``QueuedRunCoordinator``, the
``K8sRunLauncher`` and one code location (the ``dagster-user-deployments`` subchart).

Used by the shared tier and, one instance per namespace, by every sandbox, so nothing here is
tier-specific. Everything the chart creates is namespaced (ServiceAccount, Role, RoleBinding,
ConfigMaps, Deployments, Services): instances in different namespaces cannot collide.

Value names follow ``helm/dagster/values.schema.json`` and the subchart's templates in
dagster-io/dagster; :data:`SCHEMA_KEY_PATHS` in the tests records the paths read there.

Schedules and sensors: the chart (and Dagster's instance config) has no switch that turns them off:
``dagsterDaemon.schedules``/``sensors`` only tune threads, and the daemon always runs its sensor loop.
What keeps them off is Dagster's default: an instigator runs only once started, or if its code
declares ``default_status=RUNNING``. A fresh host has nothing started, so the flags reach the code
location (and, through it, every run pod) as ``PIPELINE_SANDBOX_SCHEDULES_ENABLED`` and
``PIPELINE_SANDBOX_SENSORS_ENABLED`` (``"true"``/``"false"``), which pipeline code must use to pick
its ``default_status``.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.charts import PUBLIC_REPOSITORIES, ChartLocation
from components.k8s import PART_OF, ContainerResources, check_object_name, opaque_secret, standard_labels
from components.tier.chart_common import RunAs, chart_source_args
from components.tier.dagster_images import merge_values, mirrored_image_values
from components.tier.postgres_bootstrap import PostgresDatabase

CHART = "dagster"
CODE_LOCATION = "pipeline"
"""Name of the one code location, the same in the tier and every sandbox."""
WEBSERVER_NAME = "dagster-webserver"
WEBSERVER_PORT = 80
PASSWORD_KEY = "postgresql-password"  # noqa: S105 - a key name the chart reads
SCHEDULES_ENV = "PIPELINE_SANDBOX_SCHEDULES_ENABLED"
SENSORS_ENV = "PIPELINE_SANDBOX_SENSORS_ENABLED"
# Release and code location names name Services; the charts derive longer object names from them.
_NAME_MAX = 30


def instigator_flags(schedules: bool, sensors: bool) -> dict[str, str]:
    """The schedules/sensors switches as pipeline code reads them from its environment."""
    return {SCHEDULES_ENV: _flag(schedules), SENSORS_ENV: _flag(sensors)}


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _dagster_resources() -> ContainerResources:
    # Dagster's webserver, daemon and code server need more memory than the k8s defaults give.
    return ContainerResources("100m", "256Mi", "1", "1Gi")


@dataclass(frozen=True)
class CodeLocation:
    """The one code location the host serves (a gRPC server from the pipeline image)."""

    name: str
    image_repository: pulumi.Input[str]
    image_tag: pulumi.Input[str]
    grpc_args: tuple[pulumi.Input[str], ...]
    """Arguments of ``dagster api grpc``, e.g. ``("-m", "pipeline.definitions")``."""
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Plain (non-secret) environment of the code server and of every run pod."""
    env_secrets: tuple[pulumi.Input[str], ...] = ()
    """Names of Secrets whose keys become environment of the code server and of every run pod."""
    port: int = 3030
    resources: ContainerResources = field(default_factory=_dagster_resources)


@dataclass(frozen=True)
class PostgresConnection:
    """Run, event and schedule storage in an external Postgres database."""

    host: pulumi.Input[str]
    username: str
    database: str
    password: pulumi.Input[str]
    """Stored only in the Secret this component creates."""
    port: int = 5432
    params: Mapping[str, str] = field(default_factory=dict)
    """libpq parameters, e.g. ``{"sslmode": "require"}``."""

    @classmethod
    def to(
        cls, host: pulumi.Input[str], database: PostgresDatabase, params: Mapping[str, str] | None = None
    ) -> PostgresConnection:
        """Logs in to ``database`` on ``host`` as the role that owns it."""
        return cls(
            host=host,
            username=database.user,
            database=database.name,
            password=database.password,
            params=dict(params or {}),
        )


@dataclass(frozen=True)
class DagsterHostArgs:
    """Inputs of :class:`DagsterHost`."""

    namespace: pulumi.Input[str]
    dagster_version: pulumi.Input[str]
    """Chart version, which also pins the Dagster images (``tier:versions.dagster``; a sandbox passes its
    tier's ``versions.dagster`` output)."""
    code_location: CodeLocation
    postgres: PostgresConnection
    release_name: str = "dagster"
    """Helm release name and name prefix of every object; must contain ``dagster`` (see below)."""
    job_namespace: pulumi.Input[str] | None = None
    """Namespace of run Jobs; unset means ``namespace``, the only one the chart grants RBAC in."""
    schedules: bool = False
    sensors: bool = False
    paused: bool = False
    """Run no Dagster pod (webserver, daemon, code server); objects holding no data stay declared."""
    max_concurrent_runs: int = 4
    create_rbac: bool = True
    """Let the chart create its (namespaced) Role and RoleBinding for launching run Jobs."""
    webserver_resources: ContainerResources = field(default_factory=_dagster_resources)
    daemon_resources: ContainerResources = field(default_factory=_dagster_resources)
    run_resources: ContainerResources = field(
        default_factory=lambda: ContainerResources("250m", "512Mi", "2", "4Gi")
    )
    """Requests and limits of every run pod's container."""
    # Dagster's images write to their home and /tmp, so the root filesystem stays writable.
    run_as: RunAs = field(default_factory=lambda: RunAs(read_only_root_filesystem=False))
    chart: ChartLocation | pulumi.Output[ChartLocation] = field(
        default_factory=lambda: ChartLocation(CHART, PUBLIC_REPOSITORIES[CHART])
    )
    """Where the chart comes from (``tier:charts.dagster``; a sandbox passes its tier's)."""
    image_registry: pulumi.Input[str | None] = None
    """Mirror registry the chart's own images are pulled from (``tier:images.registry``); None leaves
    them as the chart publishes them. The code location's image is never rewritten."""
    kubectl_context: str | None = None
    """kubeconfig context the port-forward command names; None leaves kubectl on its current context."""
    kubeconfig: str | None = None
    """kubeconfig file the port-forward command names; None leaves kubectl on KUBECONFIG or ~/.kube/config."""


class DagsterHost(pulumi.ComponentResource):
    """Dagster webserver, daemon and one code location from the official chart."""

    webserver_service: pulumi.Output[str]
    """Name of the webserver Service."""
    webserver_port: pulumi.Output[int]
    """Port of the webserver Service."""
    url_port_forward_command: pulumi.Output[str]
    """The ``kubectl port-forward`` a user runs to open the UI on http://localhost:3000."""

    def __init__(self, name: str, args: DagsterHostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-sandbox:tier:DagsterHost", name, None, opts)
        _validate(args)
        password_secret = opaque_secret(
            f"{name}-postgres-secret",
            name=f"{args.release_name}-postgresql-password",
            namespace=args.namespace,
            labels=standard_labels("dagster", "run-storage", name),
            string_data={PASSWORD_KEY: args.postgres.password},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.chart = k8s.helm.v4.Chart(
            f"{name}-chart",
            **chart_source_args(args.chart),
            version=args.dagster_version,
            name=args.release_name,
            namespace=args.namespace,
            values=_with_mirrored_images(
                dagster_values(args, password_secret_name=f"{args.release_name}-postgresql-password"), args
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[password_secret]),
        )
        service = webserver_service_name(args.release_name)
        self.webserver_service = pulumi.Output.from_input(service)
        self.webserver_port = pulumi.Output.from_input(WEBSERVER_PORT)
        target = kubectl_target(args.kubeconfig, args.kubectl_context)
        self.url_port_forward_command = pulumi.Output.from_input(args.namespace).apply(
            lambda ns: f"kubectl {target}-n {ns} port-forward svc/{service} 3000:{WEBSERVER_PORT}"
        )
        self.register_outputs(
            {
                "webserver_service": self.webserver_service,
                "webserver_port": self.webserver_port,
                "url_port_forward_command": self.url_port_forward_command,
            }
        )


def _validate(args: DagsterHostArgs) -> None:
    check_object_name(args.release_name, room=63 - _NAME_MAX, what="release_name")
    # Chart versions name their objects from the release name, `fullnameOverride` or
    # `global.fullnameOverride`; with "dagster" in the release name all of them give the same names.
    if "dagster" not in args.release_name:
        raise ValueError(f"release_name: must contain 'dagster', got {args.release_name!r}")
    check_object_name(args.code_location.name, room=63 - _NAME_MAX, what="code_location.name")
    # The flags may be repeated in env (a sandbox's wiring lists them), but never contradicted.
    flags = instigator_flags(args.schedules, args.sensors)
    env = args.code_location.env
    contradicted = sorted(k for k, v in flags.items() if k in env and env[k] != v)
    if contradicted:
        raise ValueError(
            f"code_location.env: {contradicted} contradict the schedules/sensors flags, which set them"
        )
    if not args.code_location.grpc_args:
        raise ValueError("code_location.grpc_args: expected the arguments of `dagster api grpc`")
    if args.max_concurrent_runs < 1:
        raise ValueError(f"max_concurrent_runs: expected at least 1, got {args.max_concurrent_runs}")


def kubectl_target(kubeconfig: str | None, context: str | None) -> str:
    """The ``--kubeconfig``/``--context`` flags that point kubectl where the stack deployed to.

    A relative kubeconfig is resolved against the program's working directory (the project directory,
    where the provider reads it too), so the command works from any directory and whatever
    ``KUBECONFIG`` says in the shell that runs it.
    """
    flags = ""
    if kubeconfig:
        path = Path(kubeconfig).expanduser().absolute()
        flags += f"--kubeconfig {shlex.quote(str(path))} "
    if context:
        flags += f"--context {shlex.quote(context)} "
    return flags


def _with_mirrored_images(values: dict[str, Any], args: DagsterHostArgs) -> pulumi.Input[dict[str, Any]]:
    """``values`` plus, with a mirror, the chart's images from it. Plain values stay plain, so a tier
    without a mirror gives the chart exactly the values it always did."""
    registry, version = args.image_registry, args.dagster_version
    if registry is None:
        return values
    if isinstance(registry, str) and isinstance(version, str):
        return merge_values(values, mirrored_image_values(version, registry))
    return pulumi.Output.all(version, registry).apply(
        lambda resolved: pulumi.Output.from_input(
            merge_values(values, mirrored_image_values(*resolved)) if resolved[1] else values
        )
    )


def webserver_service_name(release_name: str) -> str:
    """The webserver Service the chart creates for ``release_name``."""
    return f"{release_name}-{WEBSERVER_NAME}"


def dagster_values(args: DagsterHostArgs, *, password_secret_name: str) -> dict[str, Any]:
    """The chart values; nothing secret, only the name of the Secret that holds the password."""
    pod_labels = {"app.kubernetes.io/part-of": PART_OF}
    security = {
        "podSecurityContext": args.run_as.pod_security_context(),
        "securityContext": args.run_as.container_security_context(),
    }
    return {
        "fullnameOverride": args.release_name,
        "rbacEnabled": args.create_rbac,
        "serviceAccount": {"create": True, "name": args.release_name},
        "global": {"postgresqlSecretName": password_secret_name, "serviceAccountName": args.release_name},
        "generatePostgresqlPasswordSecret": False,
        "postgresql": _postgresql(args.postgres),
        "telemetry": {"enabled": False},
        "ingress": {"enabled": False},
        "dagsterWebserver": {
            "replicaCount": 0 if args.paused else 1,
            "nameOverride": WEBSERVER_NAME,
            "service": {"type": "ClusterIP", "port": WEBSERVER_PORT},
            "labels": pod_labels,
            "resources": args.webserver_resources.to_values(),
            **security,
        },
        "dagsterDaemon": {
            # The chart fixes the daemon's replicas at 1: only `enabled` takes it away. It keeps no
            # state of its own (heartbeats, queued runs and ticks live in run storage).
            "enabled": not args.paused,
            "runCoordinator": {
                "enabled": True,
                "type": "QueuedRunCoordinator",
                "config": {"queuedRunCoordinator": {"maxConcurrentRuns": args.max_concurrent_runs}},
            },
            "labels": pod_labels,
            "resources": args.daemon_resources.to_values(),
            **security,
        },
        "runLauncher": {
            "type": "K8sRunLauncher",
            "config": {"k8sRunLauncher": _run_launcher(args, pod_labels)},
        },
        "dagster-user-deployments": {
            # Paused: the subchart (code server Deployment, Service, env ConfigMaps; replicas fixed at
            # 1) goes, while `enabled` keeps the workspace that names the code location for resume.
            "enabled": True,
            "enableSubchart": not args.paused,
            "deployments": [_deployment(args, pod_labels, security)],
        },
    }


def _run_launcher(args: DagsterHostArgs, pod_labels: dict[str, str]) -> dict[str, Any]:
    launcher: dict[str, Any] = {
        "resources": args.run_resources.to_values(),
        "securityContext": args.run_as.container_security_context(),
        "labels": pod_labels,
    }
    if args.job_namespace is not None:
        launcher["jobNamespace"] = args.job_namespace
    return launcher


def _postgresql(postgres: PostgresConnection) -> dict[str, Any]:
    return {
        "enabled": False,
        "postgresqlHost": postgres.host,
        "postgresqlUsername": postgres.username,
        "postgresqlDatabase": postgres.database,
        "postgresqlParams": dict(postgres.params),
        "service": {"port": postgres.port},
    }


def _deployment(
    args: DagsterHostArgs, pod_labels: dict[str, str], security: dict[str, Any]
) -> dict[str, Any]:
    location = args.code_location
    env = {**location.env, **instigator_flags(args.schedules, args.sensors)}
    return {
        "name": location.name,
        "image": {
            "repository": location.image_repository,
            "tag": location.image_tag,
            "pullPolicy": "IfNotPresent",
        },
        "dagsterApiGrpcArgs": list(location.grpc_args),
        "port": location.port,
        "env": env,
        "envSecrets": [{"name": secret} for secret in location.env_secrets],
        # Hands the env ConfigMap and envSecrets to every run pod (the container context).
        "includeConfigInLaunchedRuns": {"enabled": True},
        "labels": pod_labels,
        "resources": location.resources.to_values(),
        **security,
    }
