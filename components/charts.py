"""Where a Helm chart comes from (``tier:charts``), and what the ``helm.v4.Chart`` resource is given for it.

A chart source is one string, in one of four forms:
- an HTTP(S) chart repository URL (``https://charts.lakefs.io``): the chart is looked up by name and
  version in the repository's ``index.yaml``;
- an HTTP(S) URL of a packaged chart (ending in ``.tgz``);
- an OCI reference to the chart itself, as ``helm pull`` takes it (``oci://registry.internal/charts/dagster``);
- a local chart directory or ``.tgz`` archive; relative paths are read from the project directory (the
  one holding ``Pulumi.yaml``) on the machine that runs ``pulumi up``.

Helm ignores the requested version for a local chart, so a local chart's ``Chart.yaml`` is checked
against the pinned version here instead: a mismatch would deploy another version than the one the
stage-first gate approved.
"""

from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
"""The project directory (``Pulumi.yaml``, ``__main__.py``): the base of relative local chart paths."""
PUBLIC_REPOSITORIES = {"lakefs": "https://charts.lakefs.io", "dagster": "https://dagster-io.github.io/helm"}
"""Where each chart is published; the default sources."""
ACCEPTED = (
    "an http(s) chart repository URL, an http(s) URL of a .tgz chart, an oci:// chart reference such as "
    "oci://registry.internal/charts/dagster, or a local chart directory or .tgz path"
)
_HTTP = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_OCI = re.compile(r"^oci://[^\s/]+(/[^\s/]+)+$")
_ARCHIVES = (".tgz", ".tar.gz")


class ChartSourceKind(StrEnum):
    REPOSITORY = "repository"
    ARCHIVE_URL = "archive URL"
    OCI = "OCI"
    LOCAL = "local"


class ChartSourceError(ValueError):
    """A chart source that cannot be used; the message says why and what is accepted."""


def chart_source_kind(source: str) -> ChartSourceKind:
    """Which form ``source`` is in; raises :class:`ChartSourceError` for none of them."""
    if "://" in source:
        if _HTTP.match(source):
            return ChartSourceKind.ARCHIVE_URL if source.endswith(_ARCHIVES) else ChartSourceKind.REPOSITORY
        if _OCI.match(source):
            return ChartSourceKind.OCI
        raise ChartSourceError(f"expected {ACCEPTED}, got {source!r}")
    if not source.strip() or source != source.strip():
        raise ChartSourceError(f"expected {ACCEPTED}, got {source!r}")
    return ChartSourceKind.LOCAL


def check_chart_source(source: str) -> str:
    """``source`` if it has one of the accepted forms (config validation: no file system, no network)."""
    chart_source_kind(source)
    return source


@dataclass(frozen=True)
class ChartLocation:
    """What the Chart resource is given: ``chart`` and, for a chart repository, ``repository_opts.repo``."""

    chart: str
    repository: str | None = None


def locate_chart(source: str, name: str, version: str, base_dir: Path = PROJECT_DIR) -> ChartLocation:
    """Where Helm finds chart ``name`` at ``version`` for ``source``.

    Args:
        source: a chart source in one of the module's forms.
        name: the chart's name (``lakefs``, ``dagster``).
        version: the pinned chart version; a local chart must be exactly this version.
        base_dir: directory relative local paths are read from.

    Raises:
        ChartSourceError: the source has no accepted form, or a local chart is missing or is another
            chart or version.
    """
    kind = chart_source_kind(source)
    if kind is ChartSourceKind.REPOSITORY:
        return ChartLocation(chart=name, repository=source)
    if kind is not ChartSourceKind.LOCAL:
        return ChartLocation(chart=source)
    path = Path(source).expanduser()
    path = path if path.is_absolute() else base_dir / path
    metadata = _chart_metadata(path, source)
    found = (str(metadata.get("name")), str(metadata.get("version")))
    if found != (name, version):
        raise ChartSourceError(
            f"{source!r} holds chart {found[0]} {found[1]}, expected {name} {version} (the pinned version)"
        )
    return ChartLocation(chart=str(path))


def _chart_metadata(path: Path, source: str) -> dict[str, Any]:
    """The ``Chart.yaml`` of a chart directory or packaged chart."""
    try:
        if path.is_dir():
            text = (path / "Chart.yaml").read_text()
        elif path.is_file() and path.name.endswith(_ARCHIVES):
            text = _packaged_chart_yaml(path)
        else:
            raise ChartSourceError(f"{source!r}: no chart directory or .tgz at {str(path)!r}")
        metadata = yaml.safe_load(text)
    except (OSError, tarfile.TarError, yaml.YAMLError) as error:
        raise ChartSourceError(f"cannot read a chart at {str(path)!r}: {error}") from None
    if not isinstance(metadata, dict):
        raise ChartSourceError(f"{str(path)!r} has no valid Chart.yaml")
    return metadata


def _packaged_chart_yaml(path: Path) -> str:
    # `helm package` puts everything under one top-level directory named after the chart.
    with tarfile.open(path, "r:gz") as archive:
        members = [m for m in archive.getmembers() if m.isfile() and m.name.count("/") == 1]
        member = next((m for m in members if m.name.endswith("/Chart.yaml")), None)
        extracted = archive.extractfile(member) if member is not None else None
        if extracted is None:
            raise ChartSourceError(f"{str(path)!r} is not a packaged chart (no <chart>/Chart.yaml inside)")
        return extracted.read().decode()
