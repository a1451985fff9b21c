"""The installed console script answers --help for itself and every subcommand, anywhere, without
the Pulumi CLI: what a newcomer runs first after `make setup`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "pipeline-sandbox"
SUBCOMMANDS = ("list", "status", "gc", "up", "down", "pause", "resume")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.is_file(), f"{SCRIPT} is missing: `make setup` installs the project (pip install -e .)"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd)}  # no pulumi on PATH
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_top_level_help_lists_every_subcommand_and_the_exit_codes(tmp_path: Path) -> None:
    result = _run("--help", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: pipeline-sandbox")
    for command in SUBCOMMANDS:
        assert command in result.stdout
    assert "exit codes" in result.stdout


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_each_subcommand_has_help(tmp_path: Path, command: str) -> None:
    result = _run(command, "--help", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: pipeline-sandbox {command}")


def test_outside_the_project_a_command_says_where_to_run_it(tmp_path: Path) -> None:
    env_dir = os.environ.get("PIPELINE_SANDBOX_PROJECT_DIR")
    assert env_dir is None or not env_dir  # the test environment sets none

    result = _run("--project-dir", str(tmp_path), "list", cwd=tmp_path)

    assert result.returncode == 2
    assert "no Pulumi.yaml of project 'pipeline-sandbox'" in result.stderr


def test_an_unknown_subcommand_is_a_usage_error(tmp_path: Path) -> None:
    result = _run("destroy-everything", cwd=tmp_path)

    assert result.returncode == 2
    assert "invalid choice" in result.stderr
