"""`make plan`: the engine-free dry run a user can run anywhere."""

from __future__ import annotations

import pytest

from tools.plan import main


def test_plan_lists_a_sandboxs_resources_and_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--stack",
            "bob-x",
            "--set",
            "sandbox:branch=fix-1",
            "--set",
            "sandbox:owner=b@example.com",
            "--set",
            "sandbox:image=r.example.com/p:1",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "kubernetes:core/v1:Namespace  sandbox-place-namespace" in out
    assert 'namespace: "sbx-fix-1"' in out


def test_plan_reports_bad_config_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "bob-x", "--set", "sandbox:ttl=forever"]) == 1
    assert "sandbox:ttl: expected a duration" in capsys.readouterr().err


@pytest.mark.parametrize("stack", ["dev", "stage", "prod"])
def test_plan_evaluates_every_shipped_tier_stack(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    # prod is gated on stage: the plan must supply stage's (shipped) versions, as a deployed stage would.
    assert main(["--stack", stack]) == 0
    out = capsys.readouterr().out
    assert f"stack {stack}:" in out
    assert "pipeline-sandbox:tier:Tier  tier" in out
    assert "dagsterUrl:" in out


def test_plan_shows_a_sandboxs_dagster_and_its_url(capsys: pytest.CaptureFixture[str]) -> None:
    sandbox = ["sandbox:branch=fix-1", "sandbox:owner=b@example.com", "sandbox:image=r.example.com/p:1"]
    assert main(["--stack", "bob-x", *[arg for pair in sandbox for arg in ("--set", pair)]]) == 0
    out = capsys.readouterr().out
    assert "kubernetes:helm.sh/v4:Chart  sandbox-dagster-host-chart" in out
    assert 'dagsterUrl: "kubectl -n sbx-fix-1 port-forward svc/dagster-dagster-webserver 3000:80"' in out
