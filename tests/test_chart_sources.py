"""tier:charts: every form of chart source reaches the Chart resource; bad ones are refused by config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.chart_support import make_chart, package_chart
from tests.conftest import Declared, ProgramFailed, ProgramRun
from tests.tier_support import tier_run

CHART = "kubernetes:helm.sh/v4:Chart"
DAGSTER_VERSION = "1.13.28"  # stacks/Pulumi.dev.yaml
LAKEFS_CHART_VERSION = "1.12.16"


def chart_of(run: ProgramRun, name: str) -> Declared:
    return run.named(f"tier-{name}-chart")


def with_charts(**sources: str) -> dict[str, Any]:
    return {"tier:charts": sources}


def refused(config: dict[str, Any]) -> str:
    with pytest.raises(ProgramFailed) as failure:
        tier_run("dev", config)
    assert not failure.value.resources, "nothing may be declared when config is refused"
    return str(failure.value.error)


def test_by_default_both_charts_come_from_their_public_repositories() -> None:
    run = tier_run("dev")
    lakefs, dagster = chart_of(run, "lakefs"), chart_of(run, "dagster")
    assert (lakefs.inputs["chart"], lakefs.inputs["repositoryOpts"]) == (
        "lakefs",
        {"repo": "https://charts.lakefs.io"},
    )
    assert (dagster.inputs["chart"], dagster.inputs["repositoryOpts"]) == (
        "dagster",
        {"repo": "https://dagster-io.github.io/helm"},
    )


def test_a_mirrored_chart_repository_is_given_as_the_repository_with_the_chart_name() -> None:
    run = tier_run(
        "dev", with_charts(lakefs="https://charts.internal/lakefs", dagster="http://charts.internal")
    )
    assert chart_of(run, "lakefs").inputs["repositoryOpts"] == {"repo": "https://charts.internal/lakefs"}
    assert chart_of(run, "lakefs").inputs["chart"] == "lakefs"
    assert chart_of(run, "dagster").inputs["repositoryOpts"] == {"repo": "http://charts.internal"}
    assert chart_of(run, "dagster").inputs["version"] == DAGSTER_VERSION


@pytest.mark.parametrize(
    "source", ["oci://registry.internal:5000/charts/dagster", "https://files.internal/dagster-1.13.28.tgz"]
)
def test_an_oci_reference_or_archive_url_is_the_chart_itself_with_the_pinned_version(source: str) -> None:
    dagster = chart_of(tier_run("dev", with_charts(dagster=source)), "dagster")
    assert dagster.inputs["chart"] == source
    assert not dagster.inputs.get("repositoryOpts")
    assert dagster.inputs["version"] == DAGSTER_VERSION


def test_a_local_chart_directory_and_a_packaged_chart_are_given_by_absolute_path(tmp_path: Path) -> None:
    directory = make_chart(tmp_path, "dagster", DAGSTER_VERSION, dirname="dagster-mirror")
    archive = package_chart(
        make_chart(tmp_path / "l", "lakefs", LAKEFS_CHART_VERSION), tmp_path / "lakefs.tgz"
    )
    run = tier_run("dev", with_charts(dagster=str(directory), lakefs=str(archive)))
    assert chart_of(run, "dagster").inputs["chart"] == str(directory)
    assert chart_of(run, "lakefs").inputs["chart"] == str(archive)
    assert not chart_of(run, "lakefs").inputs.get("repositoryOpts")


def test_a_relative_local_chart_is_read_from_the_project_directory() -> None:
    message = refused(with_charts(dagster="mirror/charts/dagster"))
    assert "tier:charts.dagster: 'mirror/charts/dagster': no chart directory or .tgz at" in message
    assert str(Path(__file__).resolve().parent.parent / "mirror" / "charts" / "dagster") in message


def test_a_local_chart_of_another_version_or_name_is_refused_naming_the_key(tmp_path: Path) -> None:
    older = make_chart(tmp_path, "dagster", "1.12.0")
    other = package_chart(make_chart(tmp_path / "x", "nginx", LAKEFS_CHART_VERSION), tmp_path / "nginx.tgz")
    message = refused(with_charts(dagster=str(older), lakefs=str(other)))
    assert (
        f"tier:charts.dagster: {str(older)!r} holds chart dagster 1.12.0, expected dagster 1.13.28" in message
    )
    assert f"tier:charts.lakefs: {str(other)!r} holds chart nginx 1.12.16, expected lakefs 1.12.16" in message


@pytest.mark.parametrize(
    "source", ["ftp://charts.internal", "oci://registry.internal", "https://", " ./charts", ""]
)
def test_a_source_of_no_accepted_form_is_refused_naming_the_key_and_the_forms(source: str) -> None:
    message = refused(with_charts(lakefs=source))
    assert "tier:charts.lakefs: expected an http(s) chart repository URL" in message
    assert "oci://" in message and "local chart directory or .tgz path" in message
    assert repr(source) in message


def test_an_unknown_chart_key_is_refused_listing_the_charts() -> None:
    message = refused(with_charts(hive="https://charts.internal"))
    assert "tier:charts.hive: unknown key; accepted keys here: dagster, lakefs" in message
