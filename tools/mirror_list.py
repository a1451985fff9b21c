"""List every external reference a tier stack uses, so an operator can mirror exactly those.

Evaluates the whole program for the stack under Pulumi mocks (like ``make plan``: no Pulumi CLI, cluster
or network) and reads what it declared:
- the Helm charts, with the version and where Helm fetches each;
- every container image a pod pulls: those of the objects the program declares, and those the charts
  render with the program's values (the chart's defaults where the values leave an image alone). With
  ``tier:images.registry`` set, each image is listed with its upstream name and the name it is pulled
  by from the mirror;
- the pipeline's own code image (pushed by its CI to ``tier:dagster.codeImageRepository``, never rewritten);
- files pods download (the metastore's JDBC driver);
- the Pulumi provider plugins the program's resources need.

Sandboxes install their tier's Dagster chart and run a subset of its images, plus their own code image,
so listing the tier covers its sandboxes.

Usage: ``python -m tools.mirror_list --stack dev [--set KEY=VALUE ...] [--json]``.
Exit codes: 0 listed; 1 the stack's config is invalid (every problem is printed); 2 not a tier stack.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from components.charts import chart_source_kind
from components.images import parse_image, pull_reference
from components.tier import dagster_images, lakefs_server
from components.tier.metastore import FETCH_CONTAINER, FETCH_URL_ENV
from tests.conftest import Declared, ProgramFailed, ProgramRun, layered_config
from tools.plan import plan

CHART_TYPE = "kubernetes:helm.sh/v4:Chart"
# Which chart a Chart resource holds, by the component that declares it.
_CHART_OWNERS = {
    "pipeline-sandbox:tier:LakeFSServer": "lakefs",
    "pipeline-sandbox:tier:DagsterHost": "dagster",
}
# Resource type prefix -> the Python package whose version is the provider plugin's.
_PLUGIN_PACKAGES = {"kubernetes": "pulumi-kubernetes", "random": "pulumi-random", "aws": "pulumi-aws"}


@dataclass(frozen=True)
class Chart:
    name: str
    version: str
    source: str
    """A chart repository URL, an archive URL, an oci:// reference or a local path."""
    kind: str


@dataclass(frozen=True)
class Image:
    upstream: str
    """The published, fully qualified name: what to copy into the mirror."""
    pull: str
    """The name pods pull it by (the upstream name when there is no mirror)."""


@dataclass
class DeclaredReferences:
    """What one evaluation of the program pulls and fetches, as declared."""

    charts: list[Chart] = field(default_factory=list)
    images: set[str] = field(default_factory=set)
    code_images: set[str] = field(default_factory=set)
    downloads: set[str] = field(default_factory=set)
    plugins: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class ExternalReferences:
    """Everything a stack fetches from outside the cluster, sorted."""

    stack: str
    registry: str | None
    charts: list[Chart]
    images: list[Image]
    code_images: list[str]
    downloads: list[str]
    plugins: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "imageRegistry": self.registry,
            "charts": [asdict(c) for c in self.charts],
            "images": [asdict(i) for i in self.images],
            "codeImages": self.code_images,
            "downloads": self.downloads,
            "plugins": self.plugins,
        }


class InconsistentMirror(Exception):
    """The mirrored program pulls something that is not the mirror's copy of an upstream image."""


def declared_references(run: ProgramRun) -> DeclaredReferences:
    """Charts, images, downloads and plugins of every resource ``run`` declared."""
    found = DeclaredReferences()
    for resource in run.resources:
        package = resource.type.split(":", 1)[0]
        if package in _PLUGIN_PACKAGES and resource.custom:
            found.plugins.add(package)
        if resource.type == CHART_TYPE:
            _add_chart(found, resource)
            continue
        for container in _containers(resource.inputs):
            found.images.add(container["image"])
            if container.get("name") == FETCH_CONTAINER:
                env = {e["name"]: e.get("value") for e in container.get("env") or []}
                found.downloads.add(f"{env[FETCH_URL_ENV]} (sha256 {env.get('SHA256')})")
    return found


def _add_chart(found: DeclaredReferences, resource: Declared) -> None:
    inputs = resource.inputs
    name = _CHART_OWNERS[_type_of(resource.parent)]
    version, values = str(inputs["version"]), inputs.get("values") or {}
    source = (inputs.get("repositoryOpts") or {}).get("repo") or inputs["chart"]
    found.charts.append(Chart(name, version, source, chart_source_kind(source).value))
    if name == "lakefs":
        found.images.update(lakefs_server.chart_images(values))
    else:
        found.images.update(dagster_images.chart_images(values, version))
        found.code_images.update(dagster_images.code_location_images(values, version))


def _type_of(urn: str) -> str:
    """The resource type in a URN (``urn:pulumi:stack::project::parent$type::name``)."""
    return urn.split("::")[2].rsplit("$", 1)[-1]


def _containers(value: Any) -> Iterator[dict[str, Any]]:
    """Every container spec (a map with ``name`` and ``image``) anywhere in a resource's inputs."""
    if isinstance(value, dict):
        if isinstance(value.get("image"), str) and "name" in value:
            yield value
        for item in value.values():
            yield from _containers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _containers(item)


def external_references(stack: str, overrides: dict[str, str]) -> ExternalReferences:
    """Evaluates ``stack`` and lists what it fetches; with a mirror, pairs each image with its upstream.

    Raises:
        ProgramFailed: the stack's config is invalid.
        InconsistentMirror: a mirrored image is not the mirror's copy of an upstream one.
    """
    run = plan(stack, overrides)
    declared = declared_references(run)
    registry = run.outputs.get("imageRegistry")
    upstream = declared.images
    if registry:
        # The same stack with images from where they are published gives the upstream names.
        upstream = declared_references(plan(stack, {**overrides, **_without_mirror(stack, overrides)})).images
    images = sorted({Image(parse_image(u).upstream, pull_reference(u, registry)) for u in upstream}, key=str)
    unexplained = declared.images - {i.pull for i in images}
    if unexplained:
        raise InconsistentMirror(f"pulled but not a mirrored upstream image: {sorted(unexplained)}")
    return ExternalReferences(
        stack=stack,
        registry=registry,
        charts=sorted(declared.charts, key=lambda c: c.name),
        images=images,
        code_images=sorted(declared.code_images),
        downloads=sorted(declared.downloads),
        plugins={p: importlib.metadata.version(_PLUGIN_PACKAGES[p]) for p in sorted(declared.plugins)},
    )


def _without_mirror(stack: str, overrides: dict[str, str]) -> dict[str, str]:
    flat, _ = layered_config(stack, overrides)
    images = json.loads(flat["tier:images"])
    images.pop("registry", None)
    return {"tier:images": json.dumps(images)}


def render(refs: ExternalReferences) -> str:
    lines = [f"stack {refs.stack}: what pods and Helm fetch from outside the cluster", "", "Helm charts:"]
    lines += [f"  {c.name} {c.version}  from {c.kind} {c.source}" for c in refs.charts]
    mirror = f" (upstream -> pulled from the mirror {refs.registry})" if refs.registry else ""
    lines += ["", f"Images{mirror}:"]
    lines += [f"  {i.upstream}" + (f"  ->  {i.pull}" if refs.registry else "") for i in refs.images]
    lines += ["", "Pipeline code images (pushed by your CI, never rewritten):"]
    lines += [f"  {image}" for image in refs.code_images]
    lines += ["", "Downloads:"] + [f"  {download}" for download in refs.downloads]
    lines += ["", "Pulumi provider plugins:"] + [f"  {p} {v}" for p, v in refs.plugins.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="List the charts, images, downloads and plugins a tier stack fetches (for mirrors)."
    )
    parser.add_argument("--stack", default="dev", help="tier stack name (dev, stage, prod, or your own)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    if "tier:environment" not in layered_config(args.stack, overrides)[0]:
        print(
            f"error: {args.stack!r} is not a tier stack (no tier:environment); a sandbox uses its tier's "
            "charts and images: list the tier stack",
            file=sys.stderr,
        )
        return 2
    try:
        refs = external_references(args.stack, overrides)
    except ProgramFailed as failure:
        print(f"error: {failure.error}", file=sys.stderr)
        return 1
    print(json.dumps(refs.to_json(), indent=2) if args.json else render(refs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
