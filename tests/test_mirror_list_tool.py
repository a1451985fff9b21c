"""`python -m tools.mirror_list`: exactly the charts and images the program declares, for mirroring."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.images import parse_image
from tests.test_image_mirror import MIRROR, all_images, pod_images
from tests.tier_support import aws_overlay, tier_run
from tools.mirror_list import main

CHART = "kubernetes:helm.sh/v4:Chart"
CODE_IMAGE = "ghcr.io/example/pipeline:main"
# What the Dagster chart pulls where our values leave an image to it (its published values.yaml).
DAGSTER_DEFAULTS = {
    "docker.io/dagster/dagster-celery-k8s:1.13.28",
    "docker.io/library/postgres:14.6",
    "docker.io/library/busybox:1.28",
}


def listed(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main([*args, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


@pytest.mark.parametrize(
    ("stack", "config"), [("dev", {}), ("prod", {**aws_overlay(), "tier:platform": "aws"})]
)
def test_lists_exactly_the_images_and_charts_the_program_declares(
    stack: str, config: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    sets = [
        f"{key}={json.dumps(value) if not isinstance(value, str) else value}" for key, value in config.items()
    ]
    refs = listed(capsys, "--stack", stack, *[a for s in sets for a in ("--set", s)])
    run = tier_run(stack, config)
    lakefs = run.named("tier-lakefs-chart").inputs["values"]["image"]
    declared = {parse_image(i).upstream for i in pod_images(run)} | DAGSTER_DEFAULTS
    declared.add(parse_image(f"{lakefs['repository']}:{lakefs['community']['tag']}").upstream)
    assert {i["upstream"] for i in refs["images"]} == declared
    assert refs["codeImages"] == [CODE_IMAGE]
    charts = {
        (c.inputs["chart"], c.inputs["version"], c.inputs["repositoryOpts"]["repo"])
        for c in run.of_type(CHART)
    }
    assert {(c["name"], c["version"], c["source"]) for c in refs["charts"]} == charts
    assert [p for p in refs["plugins"]] == (
        ["aws", "kubernetes", "random"] if config else ["kubernetes", "random"]
    )
    assert refs["downloads"][0].startswith("https://repo1.maven.org/maven2/org/postgresql/postgresql/42.7.7/")


def test_with_a_mirror_each_image_is_paired_with_the_name_pods_pull_it_by(
    capsys: pytest.CaptureFixture[str],
) -> None:
    plain = listed(capsys, "--stack", "dev")
    mirrored = listed(capsys, "--stack", "dev", "--set", f'tier:images={{"registry": "{MIRROR}"}}')
    assert mirrored["imageRegistry"] == MIRROR
    assert [i["upstream"] for i in mirrored["images"]] == [i["upstream"] for i in plain["images"]]
    pulled = {i["pull"] for i in mirrored["images"]}
    assert all(p.startswith(f"{MIRROR}/") for p in pulled)
    run = tier_run("dev", {"tier:images": {"registry": MIRROR}})
    assert pulled | {CODE_IMAGE} == all_images(run)


def test_the_chart_source_listed_is_the_configured_one(capsys: pytest.CaptureFixture[str]) -> None:
    refs = listed(
        capsys,
        "--stack",
        "stage",
        "--set",
        'tier:charts={"dagster": "oci://registry.internal/charts/dagster"}',
    )
    dagster = next(c for c in refs["charts"] if c["name"] == "dagster")
    assert dagster == {
        "name": "dagster",
        "version": "1.13.28",
        "source": "oci://registry.internal/charts/dagster",
        "kind": "OCI",
    }


def test_the_text_listing_names_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "dev", "--set", 'tier:images={"registry": "localhost:5000"}']) == 0
    out = capsys.readouterr().out
    assert "dagster 1.13.28  from repository https://dagster-io.github.io/helm" in out
    assert "docker.io/library/postgres:16.4  ->  localhost:5000/library/postgres:16.4" in out
    assert (
        "Pipeline code images (pushed by your CI, never rewritten):\n  ghcr.io/example/pipeline:main" in out
    )
    assert "Pulumi provider plugins:\n  kubernetes 4.34.2" in out


def test_bad_config_is_reported_with_exit_code_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "dev", "--set", 'tier:images={"registry": "https://x"}']) == 1
    assert "tier:images.registry: expected a registry host" in capsys.readouterr().err


def test_a_sandbox_stack_is_refused_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "alice-x"]) == 2
    assert "not a tier stack" in capsys.readouterr().err
