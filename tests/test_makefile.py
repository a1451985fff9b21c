"""The Makefile's stack commands: which pulumi commands they run, and how they refuse misuse.

A stand-in ``pulumi`` (and ``python``) on PATH records each call; a throwaway VENV keeps ``make``
from building or touching the real virtualenv.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

USAGE = "STACK=<stack> (a tier stack: dev stage prod; any other name is a sandbox)"


@dataclass
class Made:
    returncode: int
    stderr: str
    calls: list[str]


Make = Callable[..., Made]
"""``make(*args, tty=False)``: runs make in the project with the given arguments."""


@pytest.fixture
def make(tmp_path: Path) -> Make:
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    venv_bin = tmp_path / "venv" / "bin"
    bin_dir.mkdir()
    venv_bin.mkdir(parents=True)
    recorder = f'#!/bin/sh\necho "$(basename "$0") $*" >> "{calls}"\n'
    for tool in (bin_dir / "pulumi", venv_bin / "python"):
        tool.write_text(recorder)
        tool.chmod(0o755)
    (venv_bin / ".installed").touch()  # newer than requirements*.txt: nothing to install

    def run(*args: str, tty: bool = False) -> Made:
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
        env.pop("MAKEFLAGS", None)
        command = [
            "make",
            "--no-print-directory",
            "-C",
            str(PROJECT_ROOT),
            f"VENV={tmp_path / 'venv'}",
            *args,
        ]
        # A pseudo-terminal on stdin/stdout is what an interactive shell gives make.
        primary, terminal = os.openpty() if tty else (-1, -1)
        try:
            result = subprocess.run(
                command,
                check=False,
                stdin=terminal if tty else subprocess.DEVNULL,
                stdout=terminal if tty else subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                text=True,
            )
        finally:
            if tty:
                os.close(primary)
                os.close(terminal)
        recorded = calls.read_text().splitlines() if calls.exists() else []
        return Made(result.returncode, result.stderr, recorded)

    return run


def test_up_selects_or_creates_the_stack_then_applies_without_asking_when_yes(make: Make) -> None:
    made = make("up", "STACK=dev", "YES=1")
    assert made.returncode == 0, made.stderr
    assert made.calls == ["pulumi stack select --create dev", "pulumi up --stack dev --yes"]


def test_up_in_a_terminal_leaves_the_confirmation_to_pulumi(make: Make) -> None:
    made = make("up", "STACK=dev", tty=True)
    assert made.returncode == 0, made.stderr
    assert made.calls == ["pulumi stack select --create dev", "pulumi up --stack dev"]


def test_up_outside_a_terminal_without_yes_names_the_fix_and_runs_nothing(make: Make) -> None:
    made = make("up", "STACK=dev")
    assert made.returncode != 0
    assert "run 'make up STACK=dev YES=1'" in made.stderr
    assert made.calls == []


def test_up_refuses_a_yes_it_does_not_understand(make: Make) -> None:
    made = make("up", "STACK=dev", "YES=maybe")
    assert made.returncode != 0
    assert "YES must be 1 (apply without asking) or unset, got 'maybe'" in made.stderr
    assert made.calls == []


def test_preview_selects_or_creates_the_stack(make: Make) -> None:
    made = make("preview", "STACK=alice-orders")
    assert made.returncode == 0, made.stderr
    assert made.calls == ["pulumi stack select --create alice-orders", "pulumi preview --stack alice-orders"]


@pytest.mark.parametrize("target", ["up", "preview", "plan"])
def test_a_stack_command_without_stack_prints_its_usage_and_runs_nothing(make: Make, target: str) -> None:
    made = make(target)
    assert made.returncode != 0
    assert f"usage: make {target} {USAGE}" in made.stderr
    assert made.calls == []


def test_plan_plans_exactly_the_stack_named(make: Make) -> None:
    made = make("plan", "STACK=prod")
    assert made.returncode == 0, made.stderr
    assert made.calls == ["python -m tools.plan --stack prod"]
