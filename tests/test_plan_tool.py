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
