"""Where the tier and its sandboxes get their charts and images from (``tier:charts``, ``tier:images``).

Defaults are the public sources; an air-gapped installation points them at its mirror. See the
README, "Air-gapped install", and ``python -m tools.mirror_list`` for what to mirror.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from components.charts import ACCEPTED, PUBLIC_REPOSITORIES, check_chart_source
from components.config.model import ConfigModel
from components.images import check_registry

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"

ChartSource = Annotated[str, AfterValidator(check_chart_source)]


class ChartSources(ConfigModel):
    """Per chart, where Helm fetches it from; sandboxes install Dagster from where their tier does."""

    lakefs: ChartSource = Field(
        default=PUBLIC_REPOSITORIES["lakefs"], description=f"lakeFS chart: {ACCEPTED}"
    )
    dagster: ChartSource = Field(
        default=PUBLIC_REPOSITORIES["dagster"], description=f"Dagster chart: {ACCEPTED}"
    )


class ImageSettings(ConfigModel):
    """Where pods pull third-party images and downloads from."""

    registry: Annotated[str, AfterValidator(check_registry)] | None = Field(
        default=None,
        description="mirror registry every third-party image of the tier and its sandboxes is pulled "
        "from, as <registry>/<path>:<tag>; unset pulls each from where it is published",
    )
    maven_repository: str = Field(
        default=MAVEN_CENTRAL,
        pattern=r"^https?://[^\s/]+(/\S*[^\s/])?$",
        description="Maven repository (http(s) URL, no trailing slash) the metastore downloads the "
        "Postgres JDBC driver from",
    )
