"""The pull-request workflow: valid for GitHub Actions (actionlint), and wired to the right commands."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PROJECT_ROOT

WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "sandbox.yml"


def _actionlint() -> str:
    candidates = [shutil.which("actionlint")]
    gopath = os.environ.get("GOPATH") or str(Path.home() / "go")
    candidates.append(str(Path(gopath) / "bin" / "actionlint"))
    found = next((c for c in candidates if c and Path(c).is_file()), None)
    if found is None:
        message = "actionlint is not installed (.ci/run installs it with `go install`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_actionlint(), "-no-color", str(path)], capture_output=True, text=True, check=False, timeout=120
    )


def test_actionlint_finds_no_error_in_the_workflow() -> None:
    result = _lint(WORKFLOW)

    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    text = WORKFLOW.read_text().replace(
        "github.event.workflow_run.head_sha", "github.event.workflow_run.head_shaa"
    )
    broken.write_text(text.replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest", 1))

    result = _lint(broken)

    assert result.returncode != 0
    assert "runs_on" in result.stdout


def _workflow() -> dict[Any, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_pull_requests_deploy_after_the_image_and_closed_ones_are_reclaimed() -> None:
    workflow = _workflow()
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    jobs = workflow["jobs"]

    assert triggers["workflow_run"] == {"workflows": ["image"], "types": ["completed"]}
    assert "pipeline-sandbox up --branch" in _runs(jobs["deploy"])
    assert "conclusion == 'success'" in jobs["deploy"]["if"]
    assert triggers["pull_request"] == {"types": ["closed"]}
    assert "pipeline-sandbox down --branch" in _runs(jobs["reclaim"])
    assert triggers["schedule"]
    assert "pipeline-sandbox gc --yes" in _runs(jobs["gc"])


def test_forks_never_reach_the_deployment_secrets() -> None:
    jobs = _workflow()["jobs"]

    assert "head_repository.full_name == github.repository" in jobs["deploy"]["if"]
    assert "head.repo.full_name == github.repository" in jobs["reclaim"]["if"]
    assert _workflow()["permissions"] == {"contents": "read"}
