"""A sandbox deploying its commit-tagged default image warns when that commit was never published."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ProgramRun
from tests.sandbox_support import sandbox_run

OWNER = {"sandbox:owner": "alice@example.com"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def pushed_checkout(git_checkout: Callable[..., Path], tmp_path: Path) -> Path:
    """A clean checkout of feature/x whose HEAD is pushed to a (local, bare) origin."""
    checkout = git_checkout(branch="feature/x")
    remote = tmp_path / "origin.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    git(checkout, "remote", "add", "origin", str(remote))
    git(checkout, "push", "--quiet", "--set-upstream", "origin", "feature/x")
    return checkout


def image_warnings(run: ProgramRun) -> list[str]:
    return [w for w in run.warnings() if "sandbox:image is not set" in w]


def test_a_clean_pushed_commit_deploys_without_a_warning(pushed_checkout: Path) -> None:
    assert image_warnings(sandbox_run(OWNER, pushed_checkout)) == []


def test_an_unpushed_commit_warns_naming_the_tag_that_will_be_deployed(pushed_checkout: Path) -> None:
    git(pushed_checkout, "commit", "--quiet", "--allow-empty", "-m", "not pushed yet")
    head = git(pushed_checkout, "rev-parse", "HEAD")
    [warning] = image_warnings(sandbox_run(OWNER, pushed_checkout))
    assert f"tagged {head}" in warning
    assert f"commit {head[:12]} is on no remote-tracking branch" in warning
    assert "uncommitted" not in warning
    assert "pulumi config set sandbox:image" in warning


def test_a_checkout_without_any_remote_warns_too(git_checkout: Callable[..., Path]) -> None:
    checkout = git_checkout(branch="feature/x")
    [warning] = image_warnings(sandbox_run(OWNER, checkout))
    assert "is on no remote-tracking branch" in warning


def test_a_dirty_working_tree_warns_naming_what_the_image_lacks(pushed_checkout: Path) -> None:
    (pushed_checkout / "orders.py").write_text("print('new model')\n")
    head = git(pushed_checkout, "rev-parse", "HEAD")
    [warning] = image_warnings(sandbox_run(OWNER, pushed_checkout))
    assert f"tagged {head}" in warning
    assert "1 uncommitted change(s) (orders.py)" in warning
    assert "remote-tracking" not in warning


def test_dirty_and_unpushed_are_reported_in_one_warning(pushed_checkout: Path) -> None:
    git(pushed_checkout, "commit", "--quiet", "--allow-empty", "-m", "not pushed yet")
    for name in ("a.py", "b.py", "c.py", "d.py"):
        (pushed_checkout / name).write_text("")
    [warning] = image_warnings(sandbox_run(OWNER, pushed_checkout))
    assert "remote-tracking" in warning
    assert "4 uncommitted change(s) (a.py, b.py, c.py, ...)" in warning


def test_no_warning_when_sandbox_image_is_pinned(git_checkout: Callable[..., Path]) -> None:
    checkout = git_checkout(branch="feature/x")
    (checkout / "scratch.py").write_text("")
    run = sandbox_run({**OWNER, "sandbox:image": "registry.example.com/pipeline:7"}, checkout)
    assert image_warnings(run) == []


def test_the_warning_is_only_a_warning(git_checkout: Callable[..., Path]) -> None:
    checkout = git_checkout(branch="feature/x")
    (checkout / "scratch.py").write_text("")
    run = sandbox_run(OWNER, checkout)
    assert image_warnings(run)
    assert run.one("kubernetes:helm.sh/v4:Chart")


# gitBranchPushed: whether the branch was on a remote when deployed (gc's "branch gone" needs it);
# gitCommit: the commit whose image a redeploy from the checkout would run (pause/resume check it).


def test_a_branch_with_a_remote_tracking_ref_is_recorded_as_pushed(pushed_checkout: Path) -> None:
    assert sandbox_run(OWNER, pushed_checkout).outputs["gitBranchPushed"] is True


def test_a_local_only_branch_is_recorded_as_not_pushed(pushed_checkout: Path) -> None:
    git(pushed_checkout, "checkout", "--quiet", "-b", "feature/local-only")
    run = sandbox_run({**OWNER, "sandbox:image": "registry.example.com/pipeline:7"}, pushed_checkout)
    assert run.outputs["gitBranch"] == "feature/local-only"
    assert run.outputs["gitBranchPushed"] is False


def test_a_checkout_without_remotes_is_recorded_as_not_pushed(git_checkout: Callable[..., Path]) -> None:
    assert sandbox_run(OWNER, git_checkout(branch="feature/x")).outputs["gitBranchPushed"] is False


def test_an_explicit_sandbox_branch_is_looked_up_among_the_remote_tracking_refs(
    pushed_checkout: Path,
) -> None:
    # CI: a detached checkout of the commit, the branch named in config.
    git(pushed_checkout, "checkout", "--quiet", "--detach")
    pushed = sandbox_run({**OWNER, "sandbox:branch": "feature/x"}, pushed_checkout)
    unknown = sandbox_run({**OWNER, "sandbox:branch": "feature/y"}, pushed_checkout, stack="bob-y")
    assert pushed.outputs["gitBranchPushed"] is True
    assert unknown.outputs["gitBranchPushed"] is False


def test_the_deployed_commit_is_recorded_as_git_commit(pushed_checkout: Path) -> None:
    head = git(pushed_checkout, "rev-parse", "HEAD")
    assert sandbox_run(OWNER, pushed_checkout).outputs["gitCommit"] == head
