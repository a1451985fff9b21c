"""Container image references, and the name a cluster pulls each by when images come from a mirror.

Every third-party image the tier and its sandboxes run is written once, as published
(``postgres:16.4``, ``quay.io/minio/minio:RELEASE...``). With a mirror registry (``tier:images.registry``)
each is pulled as ``<registry>/<path>:<tag>`` instead, where ``<path>`` is the image's repository path
on its own registry; Docker Hub's official images keep their ``library/`` prefix, as registries name
them (``postgres:16.4`` becomes ``<registry>/library/postgres:16.4``). Without a mirror every reference
stays exactly as published, so stacks deployed before mirrors existed see no change.

The pipeline's own code image is not a third-party image: its repository is configured directly
(``tier:dagster.codeImageRepository``, ``sandbox:image``) and is never rewritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
_REGISTRY = re.compile(
    r"^(?P<host>[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)(?P<port>:[0-9]{1,5})?"
    r"(/[a-z0-9]+([._-][a-z0-9]+)*)*$"
)
_DIGEST = re.compile(r"^(?P<name>[^@]+)@(?P<digest>sha256:[a-f0-9]{64})$")


@dataclass(frozen=True)
class Image:
    """One image reference split the way registries and mirrors see it."""

    registry: str
    """``docker.io``, ``quay.io``, ``registry.internal:5000``..."""
    path: str
    """Repository path on that registry, e.g. ``library/postgres`` or ``minio/mc``."""
    tag: str
    """A tag (``16.4``) or a digest (``sha256:…``)."""

    @property
    def _separator(self) -> str:
        return "@" if self.tag.startswith("sha256:") else ":"

    @property
    def upstream(self) -> str:
        """The fully qualified published name, e.g. ``docker.io/library/postgres:16.4``."""
        return f"{self.registry}/{self.path}{self._separator}{self.tag}"

    def mirrored(self, registry: str) -> str:
        """The name the same image has in the mirror ``registry``."""
        return f"{self.mirrored_repository(registry)}{self._separator}{self.tag}"

    def mirrored_repository(self, registry: str) -> str:
        """The repository (no tag) the image has in the mirror ``registry``."""
        return f"{registry}/{self.path}"


def parse_image(reference: str) -> Image:
    """Splits a pinned reference (``postgres:16.4``, ``quay.io/minio/mc:RELEASE…``, ``repo@sha256:…``).

    Raises:
        ValueError: the reference has no tag or digest; every image this project runs is pinned.
    """
    digest = _DIGEST.match(reference)
    if digest:
        name, tag = digest.group("name"), digest.group("digest")
    else:
        slash, colon = reference.rfind("/"), reference.rfind(":")
        if colon <= slash:
            raise ValueError(f"image {reference!r} is not pinned to a tag or digest")
        name, tag = reference[:colon], reference[colon + 1 :]
    first, _, rest = name.partition("/")
    # Docker's rule: the first component names a registry only if it looks like a host.
    registry, path = (
        (first, rest)
        if rest and ("." in first or ":" in first or first == "localhost")
        else (DOCKER_HUB, name)
    )
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"  # Docker Hub's official images
    return Image(registry, path, tag)


def check_registry(value: str) -> str:
    """``value`` if it names a registry a mirror can live in; raises ValueError saying what is accepted.

    Accepted: a host with a dot (``registry.internal``), ``localhost`` or any host with a port
    (``mirror:5000``), then an optional path prefix (``registry.internal:5000/mirror``). A registry
    must be recognisable as one, or the runtime would read its first component as a Docker Hub user.
    """
    match = _REGISTRY.match(value)
    if match is None or not ("." in match["host"] or match["port"] or match["host"] == "localhost"):
        raise ValueError(
            "expected a registry host with optional port and path, such as registry.internal:5000/mirror "
            f"(lower case; no scheme, tag or trailing slash), got {value!r}"
        )
    return value


def pull_reference(reference: str, registry: str | None) -> str:
    """``reference`` as the cluster pulls it: unchanged without a mirror, else from ``registry``."""
    if registry is None:
        return reference
    return parse_image(reference).mirrored(registry)


def pull_repository(repository: str, registry: str | None) -> str:
    """A chart's ``image.repository`` value (no tag) as the cluster pulls it, like :func:`pull_reference`."""
    if registry is None:
        return repository
    return parse_image(f"{repository}:any").mirrored_repository(registry)
