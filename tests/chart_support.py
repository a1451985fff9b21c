"""Shared test helper: small fake Helm charts on disk (a directory, or packaged as ``helm package`` does)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import yaml


def make_chart(
    parent: Path, name: str, version: str, schema: dict[str, Any] | None = None, dirname: str | None = None
) -> Path:
    """A chart directory ``parent/<dirname or name>`` with ``Chart.yaml`` and, if given, a values schema."""
    chart = parent / (dirname or name)
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(yaml.safe_dump({"apiVersion": "v2", "name": name, "version": version}))
    (chart / "values.yaml").write_text("{}\n")
    if schema is not None:
        (chart / "values.schema.json").write_text(json.dumps(schema))
    return chart


def package_chart(chart: Path, archive: Path) -> Path:
    """``chart`` packaged under one top-level directory named after the chart, as ``helm package`` does."""
    name = yaml.safe_load((chart / "Chart.yaml").read_text())["name"]
    with tarfile.open(archive, "w:gz") as packaged:
        packaged.add(chart, arcname=name)
    return archive
