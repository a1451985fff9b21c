"""The images the Dagster chart runs with this project's values, and the values that pull them from a mirror.

With :func:`components.tier.dagster_host.dagster_values`, the chart (dagster-io/dagster ``helm/dagster``)
renders these images besides the code location's own:
- webserver and daemon: ``dagsterWebserver.image``/``dagsterDaemon.image``,
  ``docker.io/dagster/dagster-celery-k8s`` tagged with the chart version (the templates'
  ``dagster.dagsterImage.name`` defaults the tag to ``.Chart.Version``);
- the ``check-db-ready`` init containers of both: ``postgresql.image``, rendered as
  ``<registry>/<repository>:<tag>`` since the chart fixed registry handling (dagster-io/dagster#26569,
  Dec 2024), published as ``docker.io`` ``library/postgres`` ``14.6``;
- the webserver's ``init-user-deployment-<name>`` init container: ``busybox.image``, rendered as
  ``<repository>:<tag>``, published as ``docker.io/busybox`` ``1.28``.

Without a mirror the chart's defaults are left alone, so stacks deployed before mirrors existed keep
exactly their values; with one, each of these is set explicitly to the same image in the mirror.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.images import parse_image, pull_repository

DAGSTER_IMAGE_REPOSITORY = "docker.io/dagster/dagster-celery-k8s"
CHECK_DB_IMAGE = "docker.io/library/postgres:14.6"
BUSYBOX_IMAGE = "docker.io/busybox:1.28"
_DAGSTER_COMPONENTS = ("dagsterWebserver", "dagsterDaemon")


def default_images(version: str) -> dict[str, str]:
    """Per value path, the image the chart pulls when its values leave that image alone."""
    return {
        **{f"{part}.image": f"{DAGSTER_IMAGE_REPOSITORY}:{version}" for part in _DAGSTER_COMPONENTS},
        "postgresql.image": CHECK_DB_IMAGE,
        "busybox.image": BUSYBOX_IMAGE,
    }


def mirrored_image_values(version: str, registry: str) -> dict[str, Any]:
    """Chart values that pull every image of :func:`default_images` from ``registry`` instead."""
    dagster = {"repository": pull_repository(DAGSTER_IMAGE_REPOSITORY, registry), "tag": version}
    check_db, busybox = parse_image(CHECK_DB_IMAGE), parse_image(BUSYBOX_IMAGE)
    return {
        **{part: {"image": dict(dagster)} for part in _DAGSTER_COMPONENTS},
        # This one template joins registry and repository itself.
        "postgresql": {"image": {"registry": registry, "repository": check_db.path, "tag": check_db.tag}},
        "busybox": {"image": {"repository": busybox.mirrored_repository(registry), "tag": busybox.tag}},
    }


def chart_images(values: Mapping[str, Any], version: str) -> list[str]:
    """The chart's own images with ``values``: each one the values set, else the chart's default."""
    images = []
    for path, default in default_images(version).items():
        part, _, _ = path.partition(".")
        image = (values.get(part) or {}).get("image")
        images.append(_rendered(image, version) if image else default)
    return images


def code_location_images(values: Mapping[str, Any], version: str) -> list[str]:
    """The code locations' images: the pipeline's own, built by its CI, never mirrored."""
    user_code = values.get("dagster-user-deployments") or {}
    return [_rendered(d["image"], version) for d in user_code.get("deployments") or []]


def _rendered(image: Mapping[str, Any], version: str) -> str:
    """What the chart's templates make of an ``image`` value."""
    reference = f"{image['repository']}:{image.get('tag') or version}"
    registry = image.get("registry")
    return f"{registry}/{reference}" if registry else reference


def merge_values(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overlay`` merged in, key by key into nested maps (as Helm merges values)."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged
