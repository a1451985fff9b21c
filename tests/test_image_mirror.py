"""tier:images: with a mirror registry, every image the tier and its sandboxes pull comes from it.

Images are collected independently of the program's own helpers: from every pod spec of every
declared object, and from the chart values at each path the charts take an image from.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.images import check_registry, parse_image, pull_reference
from tests.chart_support import make_chart
from tests.conftest import ProgramFailed, ProgramRun
from tests.k8s_manifests import manifests
from tests.sandbox_support import PROD_TIER, PROD_TIER_OUTPUTS, sandbox_run
from tests.test_tier_sandbox_contract import as_stack_reference
from tests.tier_support import aws_overlay, tier_run

MIRROR = "registry.internal:5000/mirror"
CHART = "kubernetes:helm.sh/v4:Chart"
CODE_IMAGE = "registry.example.com/pipeline:7"
SANDBOX = {"sandbox:branch": "feature/orders", "sandbox:owner": "a@example.com", "sandbox:image": CODE_IMAGE}
WITH_MIRROR = {"tier:images": {"registry": MIRROR}}
# Where each chart takes the images it runs from (values path -> how the template joins the parts).
DAGSTER_IMAGE_PATHS = ("dagsterWebserver", "dagsterDaemon", "postgresql", "busybox")


def pod_images(run: ProgramRun) -> Iterator[str]:
    """The image of every container and init container of every pod template or pod we declare."""
    for manifest in manifests(run):
        spec = manifest.get("spec") or {}
        pod = (spec.get("jobTemplate") or {}).get("spec", spec).get("template", {}).get("spec")
        for container in [*(pod or {}).get("containers", []), *(pod or {}).get("initContainers", [])]:
            yield container["image"]


def chart_value_images(run: ProgramRun) -> dict[str, list[str]]:
    """Per chart resource, the images its values name, joined as the chart's templates join them."""
    found = {}
    for chart in run.of_type(CHART):
        values = chart.inputs["values"]
        if "lakefsConfig" in values:
            images = [f"{values['image']['repository']}:{values['image']['community']['tag']}"]
        else:
            images = []
            for part in DAGSTER_IMAGE_PATHS:
                image = values.get(part, {}).get("image")
                assert image, f"{chart.name}: {part}.image is left to the chart's default"
                prefix = f"{image['registry']}/" if "registry" in image else ""
                images.append(f"{prefix}{image['repository']}:{image['tag']}")
            images += [
                f"{d['image']['repository']}:{d['image']['tag']}"
                for d in values["dagster-user-deployments"]["deployments"]
            ]
        found[chart.name] = images
    return found


def all_images(run: ProgramRun) -> set[str]:
    return set(pod_images(run)) | {i for images in chart_value_images(run).values() for i in images}


@pytest.mark.parametrize(
    ("stack", "config"), [("dev", {}), ("prod", {**aws_overlay(), "tier:platform": "aws"})]
)
def test_the_registry_reaches_every_image_the_tier_runs(stack: str, config: dict[str, Any]) -> None:
    run = tier_run(stack, {**config, **WITH_MIRROR})
    code_image = "ghcr.io/example/pipeline:main"  # tier:dagster.codeImageRepository:codeImageTag
    images = all_images(run)
    assert len(images) >= 6
    assert {i for i in images if not i.startswith(f"{MIRROR}/")} == {code_image}
    assert run.outputs["imageRegistry"] == MIRROR


def test_mirrored_images_are_the_mirrors_copies_of_exactly_the_images_pulled_without_it() -> None:
    upstream = {pull_reference(i, MIRROR) for i in pod_images(tier_run("dev"))}
    assert set(pod_images(tier_run("dev", WITH_MIRROR))) == upstream
    assert f"{MIRROR}/library/postgres:16.4" in upstream
    assert f"{MIRROR}/minio/minio:RELEASE.2025-04-22T22-12-26Z" in upstream


def test_without_a_registry_images_are_pulled_as_published_and_chart_images_left_to_the_charts() -> None:
    run = tier_run("dev")
    assert "postgres:16.4" in set(pod_images(run))
    dagster = run.named("tier-dagster-chart").inputs["values"]
    assert all("image" not in dagster.get(part, {}) for part in DAGSTER_IMAGE_PATHS)
    assert run.named("tier-lakefs-chart").inputs["values"]["image"]["repository"] == "treeverse/lakefs"
    assert run.outputs["imageRegistry"] is None


def test_the_metastores_jdbc_driver_comes_from_the_configured_maven_repository() -> None:
    run = tier_run("dev", {"tier:images": {"mavenRepository": "https://nexus.internal/maven"}})
    fetch = run.named("tier-metastore-deployment").inputs["spec"]["template"]["spec"]["initContainers"][0]
    url = next(e["value"] for e in fetch["env"] if e["name"] == "URL")
    assert url.startswith("https://nexus.internal/maven/org/postgresql/postgresql/")


def test_a_sandbox_installs_dagster_and_pulls_images_the_way_its_tier_does(tmp_path: Path) -> None:
    chart = make_chart(tmp_path, "dagster", "1.13.28")
    tier = tier_run("prod", {**WITH_MIRROR, "tier:charts": {"dagster": str(chart)}})
    sandbox = sandbox_run(SANDBOX, tier_outputs={PROD_TIER: as_stack_reference(tier)})
    assert sandbox.one(CHART).inputs["chart"] == str(chart)
    images = all_images(sandbox)
    assert {i for i in images if not i.startswith(f"{MIRROR}/")} == {CODE_IMAGE}
    # Nothing a sandbox pulls is missing from what its tier needs mirrored.
    assert images - {CODE_IMAGE} <= all_images(tier)


def test_a_sandboxs_metastore_fetches_its_jdbc_driver_from_the_tiers_maven_repository() -> None:
    tier = tier_run("prod", {"tier:images": {"mavenRepository": "https://nexus.internal/maven"}})
    sandbox = sandbox_run(SANDBOX, tier_outputs={PROD_TIER: as_stack_reference(tier)})
    fetch = sandbox.named("metastore-deployment").inputs["spec"]["template"]["spec"]["initContainers"][0]
    url = next(e["value"] for e in fetch["env"] if e["name"] == "URL")
    assert url.startswith("https://nexus.internal/maven/org/postgresql/postgresql/")


def test_a_sandbox_follows_its_tiers_oci_chart() -> None:
    tier = tier_run("prod", {"tier:charts": {"dagster": "oci://registry.internal/charts/dagster"}})
    sandbox = sandbox_run(SANDBOX, tier_outputs={PROD_TIER: as_stack_reference(tier)})
    chart = sandbox.one(CHART)
    assert chart.inputs["chart"] == "oci://registry.internal/charts/dagster"
    assert not (chart.inputs.get("repositoryOpts") or {}).get("repo")


def test_a_tier_exported_before_mirrors_existed_gives_the_public_chart_and_images() -> None:
    assert "dagsterChart" not in PROD_TIER_OUTPUTS and "imageRegistry" not in PROD_TIER_OUTPUTS
    run = sandbox_run(SANDBOX)
    assert run.one(CHART).inputs["repositoryOpts"] == {"repo": "https://dagster-io.github.io/helm"}
    assert "postgres:16.4" in set(pod_images(run))


@pytest.mark.parametrize(
    ("output", "value"), [("imageRegistry", "https://registry.internal"), ("dagsterChart", "ftp://x")]
)
def test_a_malformed_mirror_output_of_the_tier_is_refused_naming_it(output: str, value: str) -> None:
    with pytest.raises(ProgramFailed) as failure:
        sandbox_run(SANDBOX, tier_outputs={PROD_TIER: {**PROD_TIER_OUTPUTS, output: value}})
    assert f"{output}: expected" in str(failure.value.error)
    assert repr(value) in str(failure.value.error)
    assert not [r for r in failure.value.resources if r.type.startswith("kubernetes:")]


def test_a_tiers_local_chart_of_another_version_is_refused_on_the_sandboxs_machine(tmp_path: Path) -> None:
    chart = make_chart(tmp_path, "dagster", "1.12.0")
    outputs = {**PROD_TIER_OUTPUTS, "dagsterChart": str(chart)}
    with pytest.raises(ProgramFailed) as failure:
        sandbox_run(SANDBOX, tier_outputs={PROD_TIER: outputs})
    message = str(failure.value.error)
    assert "the tier's dagsterChart cannot be used here" in message
    assert "holds chart dagster 1.12.0, expected dagster 1.13.28" in message


@pytest.mark.parametrize(
    "registry", ["https://registry.internal", "registry.internal/", "mirror", "Mirror.io"]
)
def test_a_registry_that_is_not_one_is_refused_naming_the_key(registry: str) -> None:
    with pytest.raises(ProgramFailed) as failure:
        tier_run("dev", {"tier:images": {"registry": registry}})
    message = str(failure.value.error)
    assert "tier:images.registry: expected a registry host with optional port and path" in message
    assert repr(registry) in message
    assert not failure.value.resources


@pytest.mark.parametrize(
    ("reference", "upstream", "mirrored"),
    [
        ("postgres:16.4", "docker.io/library/postgres:16.4", "m.io/library/postgres:16.4"),
        ("docker.io/busybox:1.28", "docker.io/library/busybox:1.28", "m.io/library/busybox:1.28"),
        ("apache/hive:4.0.1", "docker.io/apache/hive:4.0.1", "m.io/apache/hive:4.0.1"),
        ("quay.io/minio/mc:RELEASE.1", "quay.io/minio/mc:RELEASE.1", "m.io/minio/mc:RELEASE.1"),
        (
            "localhost:5000/a/b@sha256:" + "a" * 64,
            "localhost:5000/a/b@sha256:" + "a" * 64,
            "m.io/a/b@sha256:" + "a" * 64,
        ),
    ],
)
def test_an_image_keeps_its_path_and_tag_in_the_mirror(reference: str, upstream: str, mirrored: str) -> None:
    assert parse_image(reference).upstream == upstream
    assert pull_reference(reference, "m.io") == mirrored
    assert pull_reference(reference, None) == reference


@pytest.mark.parametrize("registry", ["registry.internal", "mirror:5000", "localhost", "r.io:5000/a/b-c"])
def test_registries_with_a_host_port_or_path_are_accepted(registry: str) -> None:
    assert check_registry(registry) == registry
