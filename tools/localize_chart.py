"""Make a mirrored Helm chart render without network access: localise its values-schema references.

Helm validates chart values against each ``values.schema.json`` of a chart and its subcharts while
rendering, and resolves every ``$ref`` in them. The Dagster chart's schemas refer to Kubernetes
definitions by remote URL (``https://kubernetesjsonschema.dev/.../_definitions.json#/definitions/...``),
so rendering fails offline ("failing loading https://..."). This copies a chart (a directory, or a
``.tgz`` as ``helm pull`` saves it) and rewrites those references:
- with ``--definitions FILE`` (a local copy of that ``_definitions.json``): each remote reference
  points at the same definition embedded in the schema, so Helm still checks those values;
- without: each remote ``$ref`` is dropped, so Helm leaves those values (resources, affinity, probes,
  security contexts...) unchecked. This project's own tests still validate the values it sets
  against its schema excerpt (``tests/test_tier_chart_schemas.py``).

Everything else in the chart is copied unchanged. Point ``tier:charts.dagster`` at the result.

Usage: ``python -m tools.localize_chart SOURCE DEST [--definitions FILE]``, or
``python -m tools.localize_chart --check SOURCE`` to list the remote references a chart has.
Exit codes: 0 done (``--check``: no remote reference); 1 ``--check`` found remote references;
2 bad arguments or an unreadable chart.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

SCHEMA = "values.schema.json"
_LOCAL_DEFINITION = "#/definitions/"


class LocalizeError(Exception):
    """The chart or the definitions file cannot be used; the message says why."""


def is_remote_ref(key: str, value: Any) -> bool:
    """True for a ``$ref`` that Helm would have to fetch over the network."""
    return key == "$ref" and isinstance(value, str) and value.startswith(("http://", "https://"))


def remote_refs(schema: Any) -> Iterator[str]:
    """Every remote ``$ref`` in ``schema``."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if is_remote_ref(key, value):
                yield value
            else:
                yield from remote_refs(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from remote_refs(item)


def without_remote_refs(schema: Any) -> Any:
    """``schema`` with every remote ``$ref`` dropped (the rest of each node kept)."""
    if isinstance(schema, dict):
        return {k: without_remote_refs(v) for k, v in schema.items() if not is_remote_ref(k, v)}
    if isinstance(schema, list):
        return [without_remote_refs(item) for item in schema]
    return schema


def with_embedded_definitions(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each remote ``…#/definitions/<name>…`` reference pointing at ``<name>`` embedded
    in its own ``definitions``, together with every definition those refer to.

    Raises:
        LocalizeError: a remote reference is not into a definitions file, or names a definition the file
            lacks or the schema already uses for something else.
    """
    needed: set[str] = set()

    def local(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (_local_ref(v, needed) if is_remote_ref(k, v) else local(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [local(item) for item in value]
        return value

    localized = local(schema)
    embedded = dict(localized.get("definitions") or {})
    pending = sorted(needed)
    while pending:
        name = pending.pop()
        if name in embedded:
            if embedded[name] != definitions.get(name):
                raise LocalizeError(f"definition {name!r} already exists in the schema with other content")
            continue
        if name not in definitions:
            raise LocalizeError(f"the definitions file has no {name!r}")
        embedded[name] = definitions[name]
        pending += sorted(_definition_names(definitions[name]) - embedded.keys())
    return {**localized, "definitions": embedded} if embedded else localized


def _local_ref(ref: str, needed: set[str]) -> str:
    _, _, fragment = ref.partition("#")
    pointer = f"#{fragment}"
    if not pointer.startswith(_LOCAL_DEFINITION):
        raise LocalizeError(f"remote reference {ref!r} does not point into a definitions file")
    needed.add(pointer.removeprefix(_LOCAL_DEFINITION).split("/", 1)[0])
    return pointer


def _definition_names(schema: Any) -> set[str]:
    """Names of the definitions ``schema`` refers to locally."""
    if isinstance(schema, dict):
        names = set()
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_LOCAL_DEFINITION):
                names.add(value.removeprefix(_LOCAL_DEFINITION).split("/", 1)[0])
            else:
                names |= _definition_names(value)
        return names
    if isinstance(schema, list):
        return set().union(*(_definition_names(item) for item in schema)) if schema else set()
    return set()


def localize_chart(source: Path, dest: Path, definitions: dict[str, Any] | None = None) -> list[str]:
    """Copies the chart at ``source`` to ``dest`` (a directory, or a ``.tgz``) with local schemas.

    Returns:
        The schema files that were rewritten, relative to the chart directory.

    Raises:
        LocalizeError: ``source`` is not a chart, ``dest`` exists, or a reference cannot be localised.
    """
    if dest.exists():
        raise LocalizeError(f"{dest} already exists; choose a new destination")
    with tempfile.TemporaryDirectory() as scratch:
        chart_dir = _unpacked(source, Path(scratch))
        rewritten = [str(s.relative_to(chart_dir)) for s in _schemas(chart_dir) if _rewrite(s, definitions)]
        if dest.name.endswith((".tgz", ".tar.gz")):
            with tarfile.open(dest, "w:gz") as archive:
                # Helm unpacks a chart archive from one top-level directory named after the chart.
                name = yaml.safe_load((chart_dir / "Chart.yaml").read_text())["name"]
                archive.add(chart_dir, arcname=str(name))
        else:
            shutil.copytree(chart_dir, dest)
    return rewritten


def chart_remote_refs(source: Path) -> dict[str, list[str]]:
    """Per schema file (relative to the chart), its remote references."""
    with tempfile.TemporaryDirectory() as scratch:
        chart_dir = _unpacked(source, Path(scratch))
        found = {
            str(s.relative_to(chart_dir)): sorted(set(remote_refs(_load(s)))) for s in _schemas(chart_dir)
        }
    return {name: refs for name, refs in found.items() if refs}


def _unpacked(source: Path, scratch: Path) -> Path:
    """A writable copy of the chart directory, with packaged subcharts unpacked in place."""
    if source.is_dir():
        chart_dir = scratch / source.name
        shutil.copytree(source, chart_dir)
    elif source.is_file() and source.name.endswith((".tgz", ".tar.gz")):
        chart_dir = _extract(source, scratch)
    else:
        raise LocalizeError(f"{source} is neither a chart directory nor a .tgz chart")
    if not (chart_dir / "Chart.yaml").is_file():
        raise LocalizeError(f"{source} has no Chart.yaml")
    # Helm reads subcharts from charts/ as directories or archives; unpack archives to rewrite them.
    for packaged in sorted((chart_dir / "charts").glob("*.tgz")):
        _extract(packaged, packaged.parent)
        packaged.unlink()
    return chart_dir


def _extract(archive_path: Path, into: Path) -> Path:
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            tops = {m.name.split("/", 1)[0] for m in archive.getmembers()}
            if len(tops) != 1:
                raise LocalizeError(f"{archive_path} is not a packaged chart (one top-level directory)")
            archive.extractall(into, filter="data")
    except tarfile.TarError as error:
        raise LocalizeError(f"{archive_path}: {error}") from None
    return into / tops.pop()


def _schemas(chart_dir: Path) -> list[Path]:
    return sorted(chart_dir.rglob(SCHEMA))


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise LocalizeError(f"{path}: {error}") from None


def _rewrite(path: Path, definitions: dict[str, Any] | None) -> bool:
    schema = _load(path)
    if not any(remote_refs(schema)):
        return False
    local = (
        without_remote_refs(schema) if definitions is None else with_embedded_definitions(schema, definitions)
    )
    path.write_text(json.dumps(local, indent=2) + "\n")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Copy a Helm chart with its values schemas' remote $refs localised, to render offline."
    )
    parser.add_argument("source", type=Path, help="chart directory or .tgz (e.g. from `helm pull`)")
    parser.add_argument("dest", type=Path, nargs="?", help="new directory, or a .tgz to write")
    parser.add_argument(
        "--definitions",
        type=Path,
        help="local copy of the Kubernetes _definitions.json the schemas refer to: embed what they use "
        "instead of dropping the references",
    )
    parser.add_argument("--check", action="store_true", help="only list remote references; exit 1 if any")
    args = parser.parse_args(argv)
    try:
        if args.check:
            found = chart_remote_refs(args.source)
            for name, refs in found.items():
                print(f"{name}: {len(refs)} remote reference(s), e.g. {refs[0]}")
            return 1 if found else 0
        if args.dest is None:
            parser.error("DEST is required unless --check is given")
        definitions = _load(args.definitions).get("definitions") if args.definitions else None
        rewritten = localize_chart(args.source, args.dest, definitions)
    except LocalizeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    mode = "embedded from the definitions file" if definitions is not None else "dropped"
    for schema in rewritten:
        print(f"{schema}: remote references {mode}")
    print(f"wrote {args.dest}; set tier:charts.dagster to it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
