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


def test_plan_without_a_stack_names_the_choices_instead_of_planning_dev(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert (
        "--stack is required: a tier stack (dev, stage, prod) or any other name for a sandbox" in captured.err
    )
    assert "stack dev:" not in captured.out


def test_plan_refuses_a_set_without_a_value(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--stack", "dev", "--set", "tier:protect"])
    assert exit_.value.code == 2
    assert "--set expects KEY=VALUE, e.g. sandbox:ttl=3d; got tier:protect" in capsys.readouterr().err


def test_plan_help_describes_the_tool_in_whole_sentences(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "lists the resources and outputs it would declare." in help_text
    assert "Exit codes: 0 planned, 1 the program refused the config" in help_text
