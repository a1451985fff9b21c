"""The sandbox's own Dagster: the branch's code location, webserver and daemon, with private run storage.

Everything lives in the sandbox namespace and goes when the sandbox goes:
- run storage is a one-database :class:`LocalPostgres` in the namespace; its database is created by an
  in-cluster Job, so the deploying machine never needs a network path to a database;
- the :class:`DagsterHost` runs the tier's Dagster version (the chart version pins the images) with
  the Kubernetes run launcher, whose Jobs run in the sandbox namespace (the only one its Role covers);
- the code location runs the branch's image and hands the wiring contract to every run pod;
- the Dagster chart comes from where the tier's does, and third-party images from the tier's mirror
  (the tier's ``dagsterChart`` and ``imageRegistry`` outputs); a local chart path is read on this machine.

Schedules and sensors: the daemon is needed anyway (it dequeues runs for the QueuedRunCoordinator),
and Dagster has no switch that stops it evaluating instigators; they stay off because a fresh instance
starts none, and the code location is told ``sandbox:schedules``/``sandbox:sensors`` through
``PIPELINE_SANDBOX_SCHEDULES_ENABLED``/``PIPELINE_SANDBOX_SENSORS_ENABLED`` for its ``default_status``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from components.charts import PROJECT_DIR, PUBLIC_REPOSITORIES, ChartLocation, ChartSourceError, locate_chart
from components.sandbox.tier_link import TierContractError
from components.tier.dagster_host import (
    CHART,
    CODE_LOCATION,
    CodeLocation,
    DagsterHost,
    DagsterHostArgs,
    PostgresConnection,
)
from components.tier.postgres_local import LocalPostgres, LocalPostgresArgs

RUN_STORAGE = "dagster-postgres"
RUN_DATABASE = "dagster"
# Run, event and schedule storage of one branch's runs: small next to any data, capped by the quota.
RUN_STORAGE_SIZE = "2Gi"
_DIGEST = re.compile(r"^(?P<repository>.+)@(?P<algorithm>sha256):(?P<hex>[a-f0-9]{64})$")


def split_image(image: str) -> tuple[str, str]:
    """Splits a pinned image reference into the chart's ``repository`` and ``tag`` values.

    The chart joins them as ``<repository>:<tag>``, so a digest reference is split at its last colon:
    ``repo@sha256:<hex>`` becomes (``repo@sha256``, ``<hex>``), which joins back to the same reference.
    A reference with both tag and digest keeps the digest, which is what the runtime pulls anyway.
    """
    digest = _DIGEST.match(image)
    if digest:
        repository = digest.group("repository")
        last = repository.rsplit("/", 1)[-1]
        if ":" in last:  # repo:tag@sha256:... -> drop the tag the digest overrides
            repository = repository[: repository.rindex(":")]
        return f"{repository}@{digest.group('algorithm')}", digest.group("hex")
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon <= slash:
        raise ValueError(f"image {image!r} has no tag or digest")
    return image[:colon], image[colon + 1 :]


@dataclass(frozen=True)
class SandboxDagsterArgs:
    """Inputs of :class:`SandboxDagster`."""

    namespace: pulumi.Input[str]
    dagster_version: pulumi.Input[str]
    """The tier's ``versions.dagster``: sandboxes run what production runs."""
    postgres_version: pulumi.Input[str]
    """The tier's ``versions.postgres``, the image tag of the run storage."""
    image_repository: pulumi.Input[str]
    image_tag: pulumi.Input[str]
    module: pulumi.Input[str]
    """Python module of the code location's Dagster Definitions (the tier's ``codeModule``)."""
    wiring: Mapping[str, pulumi.Input[str]]
    """Plain environment of the code server and every run pod (the wiring contract)."""
    credentials_secret: pulumi.Input[str]
    """Secret whose keys become environment of the code server and every run pod."""
    schedules: bool
    sensors: bool
    paused: bool = False
    """``sandbox:paused``: no Dagster pod runs; run storage and everything holding data stay."""
    kubectl_context: str | None = None
    """kubeconfig context named in the port-forward command; None means the current context."""
    kubeconfig: str | None = None
    """kubeconfig file named in the port-forward command; None means KUBECONFIG or ~/.kube/config."""
    chart_source: pulumi.Input[str] = PUBLIC_REPOSITORIES[CHART]
    """The tier's ``dagsterChart``: where the Dagster chart comes from."""
    image_registry: pulumi.Input[str | None] = None
    """The tier's ``imageRegistry``: the mirror third-party images are pulled from; None for none."""
    chart_base_dir: Path = field(default=PROJECT_DIR)
    """Where a relative local chart path is read from."""

    more_databases: Sequence[str] = ()
    """Further databases on the run storage's server, e.g. the sandbox's metastore."""
    before_code_location: Callable[[LocalPostgres], Mapping[str, pulumi.Input[str]]] | None = None
    """Called once the run storage is declared, with it; declares what must be ready before the code
    location starts (the sandbox's metastore) and returns the wiring values that wait for it, which
    replace those in ``wiring`` for the Dagster chart."""


def _locate_dagster_chart(args: SandboxDagsterArgs) -> pulumi.Output[ChartLocation]:
    def locate(resolved: list[str]) -> ChartLocation:
        source, version = resolved
        try:
            return locate_chart(source, CHART, version, args.chart_base_dir)
        except ChartSourceError as error:
            raise TierContractError(f"the tier's dagsterChart cannot be used here: {error}") from None

    return pulumi.Output.all(args.chart_source, args.dagster_version).apply(locate)


class SandboxDagster(pulumi.ComponentResource):
    """An isolated Dagster instance serving one code location, inside one sandbox namespace."""

    url_port_forward_command: pulumi.Output[str]
    """The ``kubectl port-forward`` that opens the sandbox's Dagster UI on http://localhost:3000."""

    def __init__(
        self, name: str, args: SandboxDagsterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pipeline-sandbox:sandbox:Dagster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Named for what it is, not for the component: these names become Kubernetes object names.
        self.run_storage = LocalPostgres(
            RUN_STORAGE,
            LocalPostgresArgs(
                namespace=args.namespace,
                version=args.postgres_version,
                databases=[RUN_DATABASE, *args.more_databases],
                storage_size=RUN_STORAGE_SIZE,
                image_registry=args.image_registry,
            ),
            opts=child,
        )
        run_database = self.run_storage.databases[RUN_DATABASE]
        env = dict(args.wiring)
        if args.before_code_location is not None:
            env.update(args.before_code_location(self.run_storage))
        self.host = DagsterHost(
            f"{name}-host",
            DagsterHostArgs(
                namespace=args.namespace,
                dagster_version=args.dagster_version,
                code_location=CodeLocation(
                    name=CODE_LOCATION,
                    image_repository=args.image_repository,
                    image_tag=args.image_tag,
                    grpc_args=("--module-name", args.module),
                    env=env,
                    env_secrets=(args.credentials_secret,),
                ),
                postgres=PostgresConnection.to(self.run_storage.host, run_database),
                schedules=args.schedules,
                sensors=args.sensors,
                paused=args.paused,
                kubectl_context=args.kubectl_context,
                kubeconfig=args.kubeconfig,
                chart=_locate_dagster_chart(args),
                image_registry=args.image_registry,
            ),
            opts=child,
        )
        self.url_port_forward_command = self.host.url_port_forward_command
        self.register_outputs({"urlPortForwardCommand": self.url_port_forward_command})
