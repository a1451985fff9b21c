"""`status`, `up`, `down`, `pause` and `resume`: one sandbox at a time, found by name or by branch."""

from __future__ import annotations

from datetime import timedelta

import pytest

from components.lakefs.opt_in import DISCARD_UNCOMMITTED_ENV
from pipeline_sandbox_cli.resolve import stack_name_for
from tests.cli.conftest import REPOSITORY, World, git
from tests.cli.fake_backend import FakeStack

CHART = "kubernetes:helm.sh/v4:Chart"


def test_status_shows_outputs_diff_against_the_snapshot_and_next_steps(world: World) -> None:
    world.sandbox("fix-1", commits=2, uncommitted=1, expires_in=-timedelta(hours=1))

    result = world.run("status", "sbx-fix-1", "--json")

    assert result.code == 0, result.err
    report = result.json()
    assert report["outputs"]["gitBranch"] == "fix-1"
    assert report["expired"] is True
    assert report["lakefs"]["repository"] == REPOSITORY
    assert report["lakefs"]["committed"]["added"] == 2
    assert report["lakefs"]["uncommitted"]["added"] == 1
    assert report["lakefs"]["uncommitted"]["sample"] == ["pending/0.parquet"]
    steps = "\n".join(report["next"])
    assert f"lakectl commit lakefs://{REPOSITORY}/sbx-fix-1" in steps
    assert "expired" in steps


def test_status_counts_changed_and_removed_paths_too(world: World) -> None:
    world.sandbox("fix-1")
    state = world.lakefs.state
    with state.lock:
        state.stage(REPOSITORY, "main", "shared.csv", b"v1")
        state.commit(REPOSITORY, "main", {"message": "seed"})
        source = state.create_branch(REPOSITORY, {"name": "sbx-fix-2", "source": "main"})
        state.stage(REPOSITORY, "sbx-fix-2", "shared.csv", b"v2")
        state.commit(REPOSITORY, "sbx-fix-2", {"message": "change"})
    world.backend.add(
        FakeStack("fix-2", {**world.backend.stacks["sbx-fix-1"].outputs, "gitBranch": "fix-2",
                            "lakefsBranch": "sbx-fix-2", "sourceCommit": source})
    )  # fmt: skip

    committed = world.run("status", "fix-2", "--json").json()["lakefs"]["committed"]

    assert (committed["added"], committed["changed"], committed["removed"]) == (0, 1, 0)


def test_status_defaults_to_the_current_branchs_sandbox(world: World) -> None:
    world.sandbox("feature/orders")
    git(world.project, "checkout", "--quiet", "-b", "feature/orders")

    result = world.run("status")

    assert result.code == 0, result.err
    assert stack_name_for("feature/orders") in result.out
    assert "changes since the snapshot" in result.out


def test_a_hand_named_stack_is_found_by_its_git_branch(world: World) -> None:
    world.sandbox("feature/orders", stack="alice-orders")

    result = world.run("status", "--branch", "feature/orders", "--json")

    assert result.json()["stack"] == "alice-orders"


def test_status_of_a_tier_stack_or_unknown_stack_is_a_usage_error(world: World) -> None:
    tier = world.run("status", "prod")
    unknown = world.run("status", "nobody")
    no_sandbox = world.run("status", "--branch", "feature/none")

    assert (tier.code, unknown.code, no_sandbox.code) == (2, 2, 2)
    assert "'prod' is a tier stack" in tier.err
    assert "no stack named 'nobody'" in unknown.err
    assert "has no sandbox stack" in no_sandbox.err and "pipeline-sandbox up" in no_sandbox.err


def test_up_creates_the_branchs_stack_sets_config_and_streams_the_engine(world: World) -> None:
    result = world.run(
        "up", "--branch", "feature/new", "--owner", "bob@example.com", "--image", "r.example.com/p:2",
        "--ttl", "3d", "--json",
    )  # fmt: skip

    assert result.code == 0, result.err
    stack = stack_name_for("feature/new")
    assert result.json()["stack"] == stack
    assert result.json()["outputs"]["gitBranch"] == "feature/new"
    assert result.json()["outputs"]["owner"] == "bob@example.com"
    assert world.backend.stacks[stack].config == {
        "sandbox:branch": "feature/new",
        "sandbox:owner": "bob@example.com",
        "sandbox:image": "r.example.com/p:2",
        "sandbox:ttl": "3d",
    }
    assert f"Updating ({stack})" in result.err


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--ttl", "3 months", "duration"),
        ("--branch", "bad..name", "git branch"),
        ("--image", "r/p", "pinned"),
    ],
)
def test_up_refuses_bad_settings_before_touching_anything(
    world: World, flag: str, value: str, expected: str
) -> None:
    args = ["up", flag, value] if flag == "--branch" else ["up", "--branch", "fix-1", flag, value]

    result = world.run(*args)

    assert result.code == 2
    assert flag in result.err and expected in result.err
    assert not [call for call in world.backend.calls if call[0] in ("create_or_select", "set_config", "up")]


def test_up_refuses_a_tier_stack(world: World) -> None:
    result = world.run("up", "--branch", "fix-1", "--stack", "prod")

    assert result.code == 2
    assert world.backend.mutations_of("prod") == []


def test_down_destroys_the_branchs_sandbox_and_can_remove_its_stack(world: World) -> None:
    world.sandbox("fix-1")

    result = world.run("down", "--branch", "fix-1", "--remove-stack")

    assert result.code == 0, result.err
    assert "sbx-fix-1: removed" in result.out
    assert "sbx-fix-1" not in world.branches()
    assert "sbx-fix-1" not in world.backend.stacks


def test_down_refuses_on_uncommitted_changes_and_never_discards(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DISCARD_UNCOMMITTED_ENV, "yes")
    world.sandbox("fix-1", uncommitted=3)

    result = world.run("down", "--stack", "sbx-fix-1", "--json")

    assert result.code == 1
    assert result.json()["status"] == "refused"
    assert any("lakectl commit" in way for way in result.json()["resolve"])
    assert "sbx-fix-1" in world.branches()


def test_pause_and_resume_scale_dagster_through_the_program(world: World) -> None:
    stack = world.sandbox("fix-1")

    paused = world.run("pause", "sbx-fix-1")

    assert paused.code == 0, paused.err
    assert stack.config["sandbox:paused"] == "true"
    assert stack.outputs["paused"] is True
    assert world.backend.last_run is not None
    values = world.backend.last_run.one(CHART).inputs["values"]
    assert values["dagsterWebserver"]["replicaCount"] == 0
    assert values["dagsterDaemon"]["enabled"] is False
    assert values["dagster-user-deployments"]["enableSubchart"] is False

    resumed = world.run("resume", "sbx-fix-1", "--json")

    assert resumed.json()["status"] == "resumed"
    values = world.backend.last_run.one(CHART).inputs["values"]
    assert values["dagsterWebserver"]["replicaCount"] == 1
    assert stack.outputs["paused"] is False


def test_pause_refuses_where_the_program_would_deploy_another_branch(world: World) -> None:
    stack = world.sandbox("fix-1")
    del stack.config["sandbox:branch"]  # the program would take the checkout's branch: main

    result = world.run("pause", "sbx-fix-1")

    assert result.code == 1
    assert "refused" in result.out and "'fix-1'" in result.out and "'main'" in result.out
    assert world.backend.mutations_of("sbx-fix-1") == []


def test_pause_of_a_tier_stack_is_a_usage_error(world: World) -> None:
    result = world.run("pause", "prod")

    assert result.code == 2
    assert world.backend.mutations_of("prod") == []


def _new_commit(world: World) -> tuple[str, str]:
    """Moves the project checkout's HEAD on; returns (old, new) commit ids."""
    old = git(world.project, "rev-parse", "HEAD")
    git(world.project, "commit", "--quiet", "--allow-empty", "-m", "newer work")
    return old, git(world.project, "rev-parse", "HEAD")


def test_resume_refuses_from_a_checkout_at_another_commit(world: World) -> None:
    stack = world.sandbox("fix-1", image=None, paused=True)  # runs the image tagged with its commit
    deployed, here = _new_commit(world)

    result = world.run("resume", "sbx-fix-1")

    assert result.code == 1
    assert "refused" in result.out
    assert deployed in result.out and here in result.out
    assert f"git checkout {deployed}" in result.out and "sandbox:image" in result.out
    assert world.backend.mutations_of(stack.name) == []


def test_pause_at_the_deployed_commit_or_with_a_pinned_image_runs(world: World) -> None:
    world.sandbox("fix-1", image=None)
    assert world.run("pause", "sbx-fix-1").code == 0

    world.sandbox("fix-2")  # sandbox:image pins what runs, whatever the checkout's HEAD
    _new_commit(world)
    assert world.run("pause", "sbx-fix-2").code == 0


def test_pause_refuses_a_sandbox_that_does_not_record_its_commit(world: World) -> None:
    stack = world.sandbox("fix-1", image=None, legacy=True)

    result = world.run("pause", "sbx-fix-1", "--json")

    assert result.code == 1
    assert result.json()["status"] == "refused"
    message = result.json()["message"]
    assert "gitCommit" in message and "pulumi config set sandbox:image" in message
    assert "pipeline-sandbox up --stack sbx-fix-1" in message
    assert world.backend.mutations_of(stack.name) == []


def test_gc_pause_idle_refuses_to_pause_from_another_commit(world: World) -> None:
    stack = world.sandbox("fix-1", image=None, expires_in=-timedelta(hours=2))
    _new_commit(world)

    result = world.run("gc", "--yes", "--pause-idle", "--json")

    assert result.code == 1
    [item] = result.json()["sandboxes"]
    assert item["outcome"]["status"] == "refused"
    assert "runs the code image of commit" in item["outcome"]["message"]
    assert world.backend.mutations_of(stack.name) == []
