"""`python -m tools.localize_chart`: a mirrored chart whose values schemas Helm can resolve offline."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.chart_support import make_chart, package_chart
from tests.test_tier_chart_schemas import sample_values
from tests.tier_support import tier_run
from tools.localize_chart import chart_remote_refs, main

K8S = "https://kubernetesjsonschema.dev/v1.18.0/_definitions.json#/definitions/"
# Shaped like the Dagster chart's schema: own definitions, plus Kubernetes ones by remote URL.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "dagsterWebserver": {
            "type": "object",
            "properties": {
                "resources": {"$ref": f"{K8S}io.k8s.api.core.v1.ResourceRequirements"},
                "nodeSelector": {"$ref": f"{K8S}io.k8s.api.core.v1.PodSpec/properties/nodeSelector"},
                "replicaCount": {"type": "integer"},
            },
        },
        "dagster-user-deployments": {"$ref": "#/definitions/UserDeployments"},
    },
    "definitions": {"UserDeployments": {"type": "object"}},
}
DEFINITIONS = {
    "definitions": {
        "io.k8s.api.core.v1.ResourceRequirements": {
            "type": "object",
            "properties": {"limits": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"}},
        },
        "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
        "io.k8s.api.core.v1.PodSpec": {
            "type": "object",
            "properties": {"nodeSelector": {"type": "object", "additionalProperties": {"type": "string"}}},
        },
        "io.k8s.api.core.v1.Unused": {"type": "object"},
    }
}


@pytest.fixture
def mirrored_chart(tmp_path: Path) -> Path:
    """A pulled Dagster chart with a remote-referencing schema and a packaged subchart that has one too."""
    chart = make_chart(tmp_path / "pulled", "dagster", "1.13.28", SCHEMA)
    sub = make_chart(tmp_path / "sub", "dagster-user-deployments", "1.13.28", SCHEMA)
    (chart / "charts").mkdir()
    package_chart(sub, chart / "charts" / "dagster-user-deployments-1.13.28.tgz")
    return package_chart(chart, tmp_path / "dagster-1.13.28.tgz")


def schemas(chart: Path) -> dict[str, Any]:
    return {str(p.relative_to(chart)): json.loads(p.read_text()) for p in chart.rglob("values.schema.json")}


def test_check_lists_the_remote_references_and_fails(
    mirrored_chart: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--check", str(mirrored_chart)]) == 1
    out = capsys.readouterr().out
    assert "values.schema.json: 2 remote reference(s)" in out
    assert "charts/dagster-user-deployments/values.schema.json: 2 remote reference(s)" in out


def test_dropping_leaves_no_remote_reference_and_keeps_every_other_check(
    mirrored_chart: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "offline" / "dagster"
    assert main([str(mirrored_chart), str(dest)]) == 0
    assert chart_remote_refs(dest) == {}
    assert main(["--check", str(dest)]) == 0
    found = schemas(dest)
    assert set(found) == {"values.schema.json", "charts/dagster-user-deployments/values.schema.json"}
    schema = found["values.schema.json"]
    assert schema["properties"]["dagster-user-deployments"] == {"$ref": "#/definitions/UserDeployments"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"dagsterWebserver": {"replicaCount": "two"}}, schema)
    # The chart values this project sets still pass.
    jsonschema.validate(sample_values(), schema)
    assert (dest / "Chart.yaml").read_text() == (tmp_path / "pulled" / "dagster" / "Chart.yaml").read_text()


def test_embedding_keeps_the_kubernetes_checks_from_a_local_definitions_file(
    mirrored_chart: Path, tmp_path: Path
) -> None:
    definitions = tmp_path / "_definitions.json"
    definitions.write_text(json.dumps(DEFINITIONS))
    dest = tmp_path / "dagster-offline.tgz"
    assert main([str(mirrored_chart), str(dest), "--definitions", str(definitions)]) == 0
    with tarfile.open(dest) as archive:
        assert {m.name.split("/")[0] for m in archive.getmembers()} == {"dagster"}
        schema = json.loads(archive.extractfile("dagster/values.schema.json").read())  # type: ignore[union-attr]
    assert chart_remote_refs(dest) == {}
    assert set(schema["definitions"]) == {
        "UserDeployments",
        "io.k8s.api.core.v1.ResourceRequirements",
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        "io.k8s.api.core.v1.PodSpec",
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"dagsterWebserver": {"resources": {"limits": 2}}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"dagsterWebserver": {"nodeSelector": {"zone": 1}}}, schema)
    jsonschema.validate(
        {"dagsterWebserver": {"resources": {"limits": "2"}, "nodeSelector": {"a": "b"}}}, schema
    )


def test_a_definition_missing_from_the_file_is_an_error(
    mirrored_chart: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definitions = tmp_path / "_definitions.json"
    definitions.write_text(json.dumps({"definitions": {}}))
    assert main([str(mirrored_chart), str(tmp_path / "out"), "--definitions", str(definitions)]) == 2
    assert "the definitions file has no 'io.k8s.api.core.v1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_existing_destination_or_a_non_chart_is_refused(
    mirrored_chart: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(mirrored_chart), str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main([str(tmp_path / "nothing"), str(tmp_path / "out")]) == 2
    assert "neither a chart directory nor a .tgz chart" in capsys.readouterr().err


def test_the_localized_chart_is_accepted_as_the_tiers_dagster_chart(
    mirrored_chart: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "dagster"
    assert main([str(mirrored_chart), str(dest)]) == 0
    run = tier_run("dev", {"tier:charts": {"dagster": str(dest)}})
    assert run.named("tier-dagster-chart").inputs["chart"] == str(dest)
