"""The real stack backend against a stand-in `pulumi` executable that records every call.

The Pulumi CLI is not available here; this checks what the Automation API layer asks of it: reading
stacks never runs `pulumi stack select` (which would change the user's current stack), every call
names its stack, and a destroy runs with both destroy-time opt-ins forced off.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from components.lakefs.opt_in import DISCARD_UNCOMMITTED_ENV, FORGET_UNREACHABLE_ENV
from pipeline_sandbox_cli.backend import PulumiUnavailableError
from pipeline_sandbox_cli.operations import NO_OPT_INS
from pipeline_sandbox_cli.pulumi_backend import PulumiBackend
from tests.conftest import PROJECT_ROOT

FAKE_PULUMI = r"""#!{python}
import json, os, sys
args = [a for a in sys.argv[1:] if a != "--non-interactive"]
with open(os.environ["FAKE_PULUMI_LOG"], "a") as log:
    log.write(json.dumps({{"args": args, "discard": os.environ.get("{discard}"),
                           "forget": os.environ.get("{forget}")}}) + "\n")
def stack():
    return args[args.index("--stack") + 1] if "--stack" in args else None
when = "2026-12-01T09:00:00.000000Z"
if args[:1] == ["version"]:
    print("v3.200.0")
elif args[:2] == ["stack", "ls"]:
    print(json.dumps([{{"name": "prod", "current": True}},
                      {{"name": "sbx-fix-1", "current": False, "lastUpdate": when}}]))
elif args[:2] == ["stack", "output"]:
    outputs = {{"prod": {{"environment": "prod"}},
               "sbx-fix-1": {{"gitBranch": "fix-1", "lakefsBranch": "sbx-fix-1"}}}}
    print(json.dumps(outputs[stack()]))
elif args[:2] == ["stack", "history"]:
    print(json.dumps([{{"kind": "update", "startTime": when, "endTime": when, "message": "",
                        "environment": {{}}, "config": {{}}, "result": "succeeded", "version": 2}}]))
elif args[:1] == ["config"]:
    print("{{}}")
elif args[:1] == ["destroy"]:
    print("Destroying (" + stack() + "):")
else:
    print("unexpected: " + " ".join(args), file=sys.stderr)
    sys.exit(3)
"""


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(FAKE_PULUMI.format(python=sys.executable, discard=DISCARD_UNCOMMITTED_ENV,
                                         forget=FORGET_UNREACHABLE_ENV))  # fmt: skip
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(log))
    monkeypatch.setenv("PULUMI_SKIP_UPDATE_CHECK", "true")
    return log


def _calls(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_reading_stacks_never_selects_one_and_always_names_it(fake_pulumi: Path) -> None:
    backend = PulumiBackend(PROJECT_ROOT)

    stacks = backend.list_stacks()
    outputs = backend.outputs("sbx-fix-1")
    update = backend.last_update("sbx-fix-1")

    assert [s.name for s in stacks] == ["prod", "sbx-fix-1"]
    assert outputs == {"gitBranch": "fix-1", "lakefsBranch": "sbx-fix-1"}
    assert update is not None and (update.kind, update.result) == ("update", "succeeded")
    calls = [c["args"] for c in _calls(fake_pulumi) if c["args"] != ["version"]]
    assert not any(args[:2] == ["stack", "select"] for args in calls)  # type: ignore[index]
    for args in calls[1:]:
        assert "--stack" in args and "sbx-fix-1" in args  # type: ignore[operator]


def test_destroy_forces_both_opt_ins_off_whatever_the_caller_set(
    fake_pulumi: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DISCARD_UNCOMMITTED_ENV, "1")
    monkeypatch.setenv(FORGET_UNREACHABLE_ENV, "true")
    lines: list[str] = []

    PulumiBackend(PROJECT_ROOT).destroy("sbx-fix-1", lines.append, NO_OPT_INS)

    destroy = next(c for c in _calls(fake_pulumi) if c["args"][0] == "destroy")  # type: ignore[index]
    assert (destroy["discard"], destroy["forget"]) == ("0", "0")
    assert "--stack" in destroy["args"] and "sbx-fix-1" in destroy["args"]  # type: ignore[operator]
    assert any("Destroying (sbx-fix-1)" in line for line in lines)


def test_without_the_pulumi_cli_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("pulumi") is None

    with pytest.raises(PulumiUnavailableError, match="install it"):
        PulumiBackend(PROJECT_ROOT).list_stacks()
