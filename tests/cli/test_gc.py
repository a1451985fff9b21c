"""`pipeline-sandbox gc`: expired and branch-gone sandboxes, dry run by default, refusals reported,
tier stacks untouched, orphan lakeFS branches reclaimed through the same safe delete."""

from __future__ import annotations

from datetime import timedelta

import pytest

from components.lakefs.opt_in import DISCARD_UNCOMMITTED_ENV
from pipeline_sandbox_cli.backend import StackSummary
from tests.cli.conftest import REPOSITORY, World, git
from tests.cli.fake_backend import FakeStack

EXPIRED = -timedelta(hours=2)


def _lakefs_snapshot(world: World) -> tuple[set[str], dict[str, str]]:
    return world.branches(), world.tags()


def test_dry_run_says_what_and_why_and_changes_nothing(world: World) -> None:
    world.sandbox("fix-1", expires_in=EXPIRED)
    world.sandbox("fix-2")
    world.delete_remote_branch("fix-2")  # merged and deleted after the sandbox was deployed
    world.sandbox("fix-3")
    before = _lakefs_snapshot(world)

    result = world.run("gc", "--json")

    assert result.code == 0, result.err
    verdicts = {item["stack"]: item for item in result.json()["sandboxes"]}
    assert verdicts["sbx-fix-1"]["action"] == "destroy"
    assert "expired at" in verdicts["sbx-fix-1"]["reasons"][0]
    assert verdicts["sbx-fix-2"]["action"] == "destroy"
    assert verdicts["sbx-fix-2"]["reasons"] == ["git branch 'fix-2' is gone from origin"]
    assert verdicts["sbx-fix-3"]["action"] == "keep"
    assert result.json()["dryRun"] is True
    assert all(item["outcome"] is None for item in verdicts.values())
    assert not [call for call in world.backend.calls if call[0] in ("destroy", "up", "set_config")]
    assert _lakefs_snapshot(world) == before


def test_a_sandbox_of_a_branch_never_pushed_is_not_gone(world: World) -> None:
    local = world.sandbox("fix-local", pushed=False)

    dry_run = world.run("gc", "--json")
    result = world.run("gc", "--yes", "--remove-stacks")

    [item] = dry_run.json()["sandboxes"]
    assert item["action"] == "keep"
    assert "nor was it when deployed (local-only)" in item["reasons"][-1]
    assert result.code == 0, result.err
    assert world.backend.mutations_of(local.name) == []
    assert "sbx-fix-local" in world.branches()


def test_a_never_pushed_sandbox_is_still_reclaimed_once_expired(world: World) -> None:
    world.sandbox("fix-local", pushed=False, expires_in=EXPIRED)

    [item] = world.run("gc", "--json").json()["sandboxes"]

    assert item["action"] == "destroy"
    assert item["reasons"][0].startswith("expired at")
    assert "local-only" in item["reasons"][1]


def test_a_sandbox_deployed_before_the_push_record_is_reclaimed_only_for_expiry(world: World) -> None:
    fresh = world.sandbox("fix-old", legacy=True)
    expired = world.sandbox("fix-older", legacy=True, expires_in=EXPIRED)
    world.delete_remote_branch("fix-old")
    world.delete_remote_branch("fix-older")

    result = world.run("gc", "--json")

    verdicts = {item["stack"]: item for item in result.json()["sandboxes"]}
    assert verdicts[fresh.name]["action"] == "keep"
    assert "predates the gitBranchPushed output" in verdicts[fresh.name]["reasons"][-1]
    assert verdicts[expired.name]["action"] == "destroy"
    assert not any("is gone from" in reason for reason in verdicts[expired.name]["reasons"])


def test_a_branch_deleted_on_the_remote_makes_its_sandbox_a_candidate(world: World) -> None:
    world.sandbox("feature/merged")
    assert world.run("gc", "--json").json()["sandboxes"][0]["action"] == "keep"

    world.delete_remote_branch("feature/merged")

    assert world.run("gc", "--json").json()["sandboxes"][0]["action"] == "destroy"


def test_yes_destroys_through_the_safe_delete_and_leaves_the_rest(world: World) -> None:
    expired = world.sandbox("fix-1", expires_in=EXPIRED, commits=1)
    gone = world.sandbox("fix-2")
    world.delete_remote_branch("fix-2")
    kept = world.sandbox("fix-3")

    result = world.run("gc", "--yes")

    assert result.code == 0, result.out + result.err
    assert world.backend.mutations_of(expired.name) == ["destroy"]
    assert world.backend.mutations_of(gone.name) == ["destroy"]
    assert world.backend.mutations_of(kept.name) == []
    assert world.branches() == {"main", "sbx-fix-3"}
    archived = {tag.rsplit("-", 1)[0] for tag in world.tags()}
    assert archived == {"archive-sbx-fix-1", "archive-sbx-fix-2"}
    assert "[1/2]" in result.err and "destroyed" in result.err


def test_tier_stacks_are_never_touched_even_when_nothing_else_is_left(world: World) -> None:
    world.sandbox("fix-1", expires_in=EXPIRED)

    world.run("gc", "--yes", "--remove-stacks", "--orphans")

    assert world.backend.mutations_of("prod") == []
    assert world.backend.mutations_of("dev") == []
    assert {"prod", "dev"} <= set(world.backend.stacks)


def test_uncommitted_changes_refuse_and_fail_the_run_with_the_way_out(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Even with the discard opt-in in the caller's environment, gc never discards.
    monkeypatch.setenv(DISCARD_UNCOMMITTED_ENV, "1")
    refused = world.sandbox("fix-1", expires_in=EXPIRED, uncommitted=2)
    world.sandbox("fix-2", expires_in=EXPIRED)

    result = world.run("gc", "--yes", "--json")

    assert result.code == 1
    outcomes = {item["stack"]: item["outcome"] for item in result.json()["sandboxes"]}
    assert outcomes["sbx-fix-2"]["status"] == "destroyed"
    assert outcomes["sbx-fix-1"]["status"] == "refused"
    assert "uncommitted change" in outcomes["sbx-fix-1"]["message"]
    resolve = outcomes["sbx-fix-1"]["resolve"]
    assert any(f"lakectl commit lakefs://{REPOSITORY}/sbx-fix-1" in way for way in resolve)
    assert any(f"{DISCARD_UNCOMMITTED_ENV}=1 pulumi destroy --stack sbx-fix-1" in way for way in resolve)
    # Nothing of the refused sandbox moved: its branch, its changes and its outputs are all there.
    assert "sbx-fix-1" in world.branches()
    with world.lakefs.state.lock:
        assert len(world.lakefs.state.repos[REPOSITORY].branches["sbx-fix-1"].staged) == 2
    assert world.backend.stacks[refused.name].outputs["lakefsBranch"] == "sbx-fix-1"


def test_refusals_are_explained_in_the_table_too(world: World) -> None:
    world.sandbox("fix-1", expires_in=EXPIRED, uncommitted=1)

    result = world.run("gc", "--yes")

    assert result.code == 1
    assert "refused" in result.out
    assert "to resolve, choose one:" in result.out
    assert "lakectl commit lakefs://pipeline/sbx-fix-1" in result.out


def test_a_failed_destroy_is_reported_as_failed(world: World) -> None:
    stack = world.sandbox("fix-1", expires_in=EXPIRED)
    stack.fail_destroy = "error: configured Kubernetes cluster is unreachable"

    result = world.run("gc", "--yes", "--json")

    assert result.code == 1
    outcome = result.json()["sandboxes"][0]["outcome"]
    assert outcome["status"] == "failed"
    assert "unreachable" in outcome["message"]
    assert outcome["resolve"] == []


def test_remove_stacks_removes_only_what_was_emptied(world: World) -> None:
    world.sandbox("fix-1", expires_in=EXPIRED)
    world.sandbox("fix-2", expires_in=EXPIRED, uncommitted=1)

    result = world.run("gc", "--yes", "--remove-stacks", "--json")

    statuses = {item["stack"]: item["outcome"]["status"] for item in result.json()["sandboxes"]}
    assert statuses == {"sbx-fix-1": "removed", "sbx-fix-2": "refused"}
    assert "sbx-fix-1" not in world.backend.stacks
    assert "sbx-fix-2" in world.backend.stacks


def test_a_stack_being_updated_is_left_alone(world: World) -> None:
    busy = world.sandbox("fix-1", expires_in=EXPIRED)
    busy.update_in_progress = True

    result = world.run("gc", "--yes", "--json")

    item = result.json()["sandboxes"][0]
    assert item["action"] == "keep"
    assert "an update is running" in item["reasons"][-1]
    assert world.backend.mutations_of(busy.name) == []


def test_an_unreachable_remote_stops_gc_before_anything_changes(world: World) -> None:
    world.sandbox("fix-1", expires_in=EXPIRED)
    git(world.project, "remote", "set-url", "origin", str(world.remote.parent / "missing.git"))

    result = world.run("gc", "--yes")

    assert result.code == 1
    assert "ls-remote" in result.err and "nothing was changed" in result.err
    assert world.backend.mutations_of("sbx-fix-1") == []


def test_skip_branch_check_reclaims_only_expired_sandboxes(world: World) -> None:
    world.sandbox("fix-1", pushed=False)
    world.sandbox("fix-2", expires_in=EXPIRED, pushed=False)
    git(world.project, "remote", "remove", "origin")

    result = world.run("gc", "--skip-branch-check", "--json")

    assert result.code == 0
    actions = {item["stack"]: item["action"] for item in result.json()["sandboxes"]}
    assert actions == {"sbx-fix-1": "keep", "sbx-fix-2": "destroy"}


def test_orphan_branches_are_reported_with_head_uncommitted_and_age(world: World) -> None:
    world.sandbox("fix-1")
    state = world.lakefs.state
    with state.lock:
        state.create_branch(REPOSITORY, {"name": "sbx-lost", "source": "main"})
        state.stage(REPOSITORY, "sbx-lost", "left/behind.csv")
        state.create_branch(REPOSITORY, {"name": "analyst-scratch", "source": "main"})

    result = world.run("gc", "--json")

    orphans = result.json()["orphans"]
    assert [o["branch"] for o in orphans] == ["sbx-lost"]
    assert orphans[0]["uncommitted"] == {"count": 1, "capped": False}
    assert orphans[0]["head"] and orphans[0]["headDate"]
    assert orphans[0]["outcome"] is None
    assert "sbx-lost" in world.branches()


def test_orphans_yes_archives_and_deletes_clean_orphans_and_refuses_dirty_ones(world: World) -> None:
    state = world.lakefs.state
    with state.lock:
        state.create_branch(REPOSITORY, {"name": "sbx-lost", "source": "main"})
        state.create_branch(REPOSITORY, {"name": "sbx-dirty", "source": "main"})
        state.stage(REPOSITORY, "sbx-dirty", "pending.csv")

    result = world.run("gc", "--yes", "--orphans", "--json")

    assert result.code == 1
    outcomes = {o["branch"]: o["outcome"]["status"] for o in result.json()["orphans"]}
    assert outcomes == {"sbx-lost": "destroyed", "sbx-dirty": "refused"}
    assert "sbx-lost" not in world.branches() and "sbx-dirty" in world.branches()
    assert any(tag.startswith("archive-sbx-lost-") for tag in world.tags())


def test_orphans_are_left_alone_while_a_stack_cannot_be_judged(world: World) -> None:
    with world.lakefs.state.lock:
        world.lakefs.state.create_branch(REPOSITORY, {"name": "sbx-maybe", "source": "main"})
    world.backend.add(FakeStack("half-made", update_in_progress=True))

    result = world.run("gc", "--yes", "--orphans")

    assert "sbx-maybe" in world.branches()
    assert "left alone" in result.err


def test_a_stack_named_like_a_branch_owns_it_before_it_has_outputs(world: World) -> None:
    with world.lakefs.state.lock:
        world.lakefs.state.create_branch(REPOSITORY, {"name": "sbx-fix-9", "source": "main"})
    world.backend.add(FakeStack("sbx-fix-9"))

    assert world.run("gc", "--json").json()["orphans"] == []


def test_pause_idle_pauses_expired_sandboxes_whose_branch_exists(world: World) -> None:
    expired = world.sandbox("fix-1", expires_in=EXPIRED)
    world.sandbox("fix-2", expires_in=EXPIRED)
    world.delete_remote_branch("fix-2")

    result = world.run("gc", "--yes", "--pause-idle", "--json")

    assert result.code == 0, result.err
    outcomes = {item["stack"]: item["outcome"]["status"] for item in result.json()["sandboxes"]}
    assert outcomes == {"sbx-fix-1": "paused", "sbx-fix-2": "destroyed"}
    assert expired.config["sandbox:paused"] == "true"
    assert expired.outputs["paused"] is True
    assert "sbx-fix-1" in world.branches()


def test_bad_jobs_value_is_a_usage_error(world: World) -> None:
    result = world.run("gc", "--jobs", "many")

    assert result.code == 2
    assert "--jobs" in result.err


def _young_orphan(world: World, name: str) -> None:
    """An orphan-looking branch with a commit made just now (a sandbox's first `pulumi up` at work)."""
    state = world.lakefs.state
    with state.lock:
        state.create_branch(REPOSITORY, {"name": name, "source": "main"})
        state.stage(REPOSITORY, name, "fresh.parquet", b"new")
        state.commit(REPOSITORY, name, {"message": "first run"})


def test_orphans_younger_than_the_grace_period_are_left_alone(world: World) -> None:
    _young_orphan(world, "sbx-new")
    with world.lakefs.state.lock:
        world.lakefs.state.create_branch(REPOSITORY, {"name": "sbx-lost", "source": "main"})

    dry_run = world.run("gc", "--orphans", "--json")
    result = world.run("gc", "--yes", "--orphans", "--json")

    planned = {o["branch"]: o["outcome"] for o in dry_run.json()["orphans"]}
    assert planned["sbx-lost"] is None
    assert planned["sbx-new"]["status"] == "kept"
    assert "younger than 1h" in planned["sbx-new"]["message"]
    assert result.code == 0, result.err
    outcomes = {o["branch"]: o["outcome"]["status"] for o in result.json()["orphans"]}
    assert outcomes == {"sbx-new": "kept", "sbx-lost": "destroyed"}
    assert "sbx-new" in world.branches() and "sbx-lost" not in world.branches()


def test_orphan_min_age_sets_the_grace_period(world: World) -> None:
    with world.lakefs.state.lock:
        world.lakefs.state.create_branch(REPOSITORY, {"name": "sbx-lost", "source": "main"})

    result = world.run("gc", "--yes", "--orphans", "--orphan-min-age", "3d", "--json")

    assert result.json()["orphans"][0]["outcome"]["status"] == "kept"
    assert "younger than 3d" in result.json()["orphans"][0]["outcome"]["message"]
    assert "sbx-lost" in world.branches()


def test_a_branch_whose_stack_appeared_after_the_first_read_is_not_reclaimed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = world.lakefs.state
    with state.lock:
        state.create_branch(REPOSITORY, {"name": "sbx-race", "source": "main"})
        state.create_branch(REPOSITORY, {"name": "sbx-lost", "source": "main"})
    backend, list_stacks, reads = world.backend, world.backend.list_stacks, []

    def listing_while_someone_deploys() -> list[StackSummary]:
        # Between gc's first read and its reclaiming, another user's first `pulumi up` of a
        # hand-named stack creates sbx-race and finishes.
        reads.append(1)
        if len(reads) == 2:
            backend.add(FakeStack("carol-race", {"gitBranch": "race", "lakefsBranch": "sbx-race"}))
        return list_stacks()

    monkeypatch.setattr(backend, "list_stacks", listing_while_someone_deploys)

    result = world.run("gc", "--yes", "--orphans", "--json")

    assert result.code == 0, result.err
    outcomes = {o["branch"]: o["outcome"] for o in result.json()["orphans"]}
    assert outcomes["sbx-race"]["status"] == "kept"
    assert "owns it now" in outcomes["sbx-race"]["message"]
    assert outcomes["sbx-lost"]["status"] == "destroyed"
    assert "sbx-race" in world.branches()
    assert not any(tag.startswith("archive-sbx-race") for tag in world.tags())


def test_bad_orphan_min_age_is_a_usage_error(world: World) -> None:
    result = world.run("gc", "--orphans", "--orphan-min-age", "soon")

    assert result.code == 2
    assert "--orphan-min-age" in result.err and "12h" in result.err


def test_a_stack_that_opted_into_discarding_is_refused_while_it_has_uncommitted_changes(
    world: World,
) -> None:
    dirty = world.sandbox("fix-1", expires_in=EXPIRED, uncommitted=2, discard=True)
    clean = world.sandbox("fix-2", expires_in=EXPIRED, discard=True)

    result = world.run("gc", "--yes", "--json")

    assert result.code == 1
    outcomes = {item["stack"]: item["outcome"] for item in result.json()["sandboxes"]}
    assert outcomes[clean.name]["status"] == "destroyed"
    refused = outcomes[dirty.name]
    assert refused["status"] == "refused"
    assert "sets sandbox:discardUncommitted" in refused["message"]
    assert "2 uncommitted change(s)" in refused["message"]
    assert any("pulumi destroy --stack sbx-fix-1" in way for way in refused["resolve"])
    assert world.backend.mutations_of(dirty.name) == []
    with world.lakefs.state.lock:
        assert len(world.lakefs.state.repos[REPOSITORY].branches["sbx-fix-1"].staged) == 2


def test_the_discard_setting_in_state_counts_without_local_config(world: World) -> None:
    # A nightly CI gc: no stack config on that machine, the setting only in the stack's state.
    stack = world.sandbox("fix-1", expires_in=EXPIRED, uncommitted=1, discard=True)
    stack.config.clear()

    [item] = world.run("gc", "--yes", "--json").json()["sandboxes"]

    assert item["outcome"]["status"] == "refused"
    assert "sbx-fix-1" in world.branches()


def test_a_stack_that_does_not_record_the_setting_is_refused_while_dirty(world: World) -> None:
    stack = world.sandbox("fix-1", expires_in=EXPIRED, uncommitted=1, legacy=True)

    [item] = world.run("gc", "--yes", "--json").json()["sandboxes"]

    assert item["outcome"]["status"] == "refused"
    assert "does not record whether it discards" in item["outcome"]["message"]
    assert world.backend.mutations_of(stack.name) == []
