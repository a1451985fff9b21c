"""`pipeline-sandbox list`: one row per sandbox stack, tier stacks never listed, lakeFS facts per row."""

from __future__ import annotations

from datetime import timedelta

from pipeline_sandbox_cli.backend import BackendError
from pipeline_sandbox_cli.resolve import stack_name_for
from tests.cli.conftest import SECRET, World
from tests.cli.fake_backend import FakeStack


def test_rows_show_branch_owner_expiry_state_and_lakefs_changes(world: World) -> None:
    world.sandbox("feature/orders", uncommitted=2, commits=3)
    world.sandbox("fix-42", expires_in=-timedelta(hours=1))
    world.sandbox("exp/paused", paused=True)

    result = world.run("list")

    assert result.code == 0, result.err
    lines = {line.split()[0]: line for line in result.out.splitlines()[1:]}
    orders_stack, paused_stack = stack_name_for("feature/orders"), stack_name_for("exp/paused")
    assert set(lines) == {orders_stack, "sbx-fix-42", paused_stack}
    orders = lines[orders_stack]
    assert "feature/orders" in orders and "orders@example.com" in orders
    assert orders.split()[-2:] == ["2", "3"]  # uncommitted, commits since the snapshot
    assert "running" in orders
    assert "EXPIRED" in lines["sbx-fix-42"]
    assert "EXPIRED" not in orders
    assert "paused" in lines[paused_stack]
    assert "update succeeded" in orders


def test_tier_stacks_are_never_listed(world: World) -> None:
    world.sandbox("fix-1")

    result = world.run("list", "--json")

    stacks = [row["stack"] for row in result.json()["sandboxes"]]
    assert stacks == ["sbx-fix-1"]
    assert result.json()["tierStacksSkipped"] == 2  # prod (outputs) and dev (config only)
    assert not any(world.backend.mutations_of(name) for name in ("prod", "dev"))


def test_json_shape_for_scripts(world: World) -> None:
    world.sandbox("fix-7", uncommitted=1, commits=2, expires_in=-timedelta(minutes=5))

    row = world.run("list", "--json").json()["sandboxes"][0]

    assert row["stack"] == "sbx-fix-7"
    assert row["gitBranch"] == "fix-7"
    assert row["lakefsBranch"] == "sbx-fix-7"
    assert row["owner"] == "fix-7@example.com"
    assert row["tier"].endswith("/prod")
    assert row["expired"] is True
    assert row["paused"] is False
    assert row["state"] == "running"
    assert row["lastUpdate"]["kind"] == "update" and row["lastUpdate"]["result"] == "succeeded"
    assert row["lakefs"]["exists"] is True
    assert row["lakefs"]["uncommitted"] == {"count": 1, "capped": False}
    assert row["lakefs"]["commits"] == {"count": 2, "capped": False}
    assert row["lakefsError"] is None
    assert set(row) >= {"createdAt", "expiresAt", "namespace"}


def test_a_stack_that_cannot_be_read_is_reported_and_fails_the_listing(world: World) -> None:
    world.sandbox("fix-1")

    def broken(stack: str) -> dict[str, object]:
        if stack == "sbx-fix-1":
            raise BackendError("reading the outputs of stack 'sbx-fix-1' failed: passphrase required")
        return dict(world.backend.stacks[stack].outputs)

    world.backend.outputs = broken  # type: ignore[method-assign]

    result = world.run("list", "--json")

    assert result.code == 1
    assert result.json()["unreadable"][0]["stack"] == "sbx-fix-1"
    assert "passphrase required" in result.err


def test_without_lakefs_access_rows_still_list_and_say_why(world: World) -> None:
    world.sandbox("fix-1", uncommitted=1)
    world.backend.stacks["prod"].outputs.pop("lakefsSecretAccessKey")

    result = world.run("list", "--json")

    assert result.code == 0
    row = result.json()["sandboxes"][0]
    assert row["lakefs"] is None
    assert "lakefsSecretAccessKey" in row["lakefsError"]
    assert "no lakeFS facts" in result.err


def test_a_stack_with_nothing_deployed_is_listed_as_such(world: World) -> None:
    world.backend.add(FakeStack("alice-new"))

    row = world.run("list", "--json").json()["sandboxes"][0]

    assert row["stack"] == "alice-new"
    assert row["state"] == "no outputs"


def test_no_secret_reaches_the_output(world: World) -> None:
    world.sandbox("fix-1")

    result = world.run("list", "--json")

    assert SECRET not in result.out + result.err


def test_bad_parallel_is_a_usage_error(world: World) -> None:
    result = world.run("--parallel", "0", "list")

    assert result.code == 2
    assert "--parallel" in result.err and "from 1 to 32" in result.err
