"""What git keeps of the project: the shipped tier stack files yes, a sandbox's own stack file no."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A fresh git repository with the project's .gitignore (the project itself may not be a clone)."""
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    shutil.copy(PROJECT_ROOT / ".gitignore", tmp_path / ".gitignore")
    return tmp_path


def ignored(repository: Path, path: str) -> bool:
    result = subprocess.run(
        ["git", "-C", str(repository), "check-ignore", "--quiet", "--no-index", path], check=False
    )
    assert result.returncode in (0, 1), f"git check-ignore failed for {path}"
    return result.returncode == 0


@pytest.mark.parametrize("stack", ["alice-orders-v2", "bob-feature.x", "dev2", "prod-copy"])
def test_a_sandbox_stack_file_written_by_stack_init_is_ignored(repository: Path, stack: str) -> None:
    assert ignored(repository, f"stacks/Pulumi.{stack}.yaml")


@pytest.mark.parametrize(
    "name", ["Pulumi.dev.yaml", "Pulumi.stage.yaml", "Pulumi.prod.yaml", "aws.example.yaml"]
)
def test_the_shipped_stack_files_stay_tracked(repository: Path, name: str) -> None:
    assert (PROJECT_ROOT / "stacks" / name).is_file()
    assert not ignored(repository, f"stacks/{name}")
