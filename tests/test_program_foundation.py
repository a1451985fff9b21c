"""Whole-program runs of both stack kinds: outputs, config refusal before any resource, stack kinds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from components.naming import sandbox_names
from tests.conftest import ProgramFailed, run_program
from tests.sandbox_support import LEASE, TIER_OUTPUTS, simulated_lease
from tests.sandbox_support import sandbox_run as sandbox


def test_sandbox_outputs_from_the_checkout(git_checkout: Callable[..., Path]) -> None:
    run = sandbox({}, git_checkout(branch="feature/Orders", email="alice@example.com"))
    names = sandbox_names("feature/Orders")
    assert run.outputs["gitBranch"] == "feature/Orders"
    assert run.outputs["lakefsBranch"] == names.lakefs_branch
    assert run.outputs["namespace"] == names.namespace
    assert run.outputs["owner"] == "alice@example.com"
    expires = datetime.fromisoformat(run.outputs["expiresAt"])
    assert expires.utcoffset() == timedelta(0)
    assert abs(expires - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=5)
    assert run.one("pipeline-sandbox:sandbox:Sandbox").name == "sandbox"


def test_explicit_branch_owner_and_ttl_win_over_git(git_checkout: Callable[..., Path]) -> None:
    run = sandbox(
        {"sandbox:branch": "main", "sandbox:owner": "team@example.com", "sandbox:ttl": "12h"},
        git_checkout(branch="feature/x"),
    )
    assert run.outputs["gitBranch"] == "main"
    assert run.outputs["lakefsBranch"] != "main"
    assert run.outputs["owner"] == "team@example.com"
    expires = datetime.fromisoformat(run.outputs["expiresAt"])
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=12))) < timedelta(minutes=5)


def refused(stack: str, config: dict[str, Any]) -> ProgramFailed:
    with pytest.raises(ProgramFailed) as failure:
        run_program(stack, config, computed={LEASE: simulated_lease}, stack_outputs=TIER_OUTPUTS)
    assert failure.value.resources == [], "a resource was declared before validation finished"
    return failure.value


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("sandbox:ttl", "banana", "sandbox:ttl: expected a duration such as 12h, 7d or 2w"),
        ("sandbox:ttl", "0d", "sandbox:ttl: expected a duration"),
        ("sandbox:ttl", "-3h", "sandbox:ttl: expected a duration"),
        ("sandbox:branch", "feature x", "sandbox:branch: expected a git branch name"),
        ("sandbox:branch", "HEAD", "sandbox:branch: expected a git branch name"),
        ("sandbox:image", "pipeline:latest", "sandbox:image: expected an image pinned to a tag or digest"),
        ("sandbox:image", "pipeline", "sandbox:image: expected an image pinned"),
        ("sandbox:tier", "a/b/c/d", "sandbox:tier: expected a stack name"),
        ("sandbox:archive", "maybe", "sandbox:archive: expected a valid boolean"),
        ("sandbox:quota", {"cpu": "lots"}, "sandbox:quota.cpu: expected a Kubernetes quantity"),
        (
            "sandbox:quota",
            {"gpus": 2},
            "sandbox:quota.gpus: unknown key; accepted keys here: cpu, defaultCpu",
        ),
        ("sandbox:colour", "blue", "sandbox:colour: unknown key; accepted keys here: archive, branch"),
        ("tier:versions", {"lakefs": "1.84.0"}, "tier:versions: tier keys apply only to tier stacks"),
    ],
)
def test_bad_sandbox_config_is_refused_by_name(key: str, value: Any, expected: str) -> None:
    failure = refused(
        "alice-x", {"sandbox:branch": "x", "sandbox:owner": "a@b.c", "sandbox:image": "r/p:1", key: value}
    )
    assert expected in str(failure.error)


@pytest.mark.parametrize(
    ("stack", "key", "expected"),
    [
        # `pulumi config set tier dev` stores pipeline-sandbox:tier, which used to be ignored.
        ("alice-x", "tier", "pipeline-sandbox:tier: unknown key; did you mean sandbox:tier?"),
        ("alice-x", "environment", "pipeline-sandbox:environment: unknown key; did you mean tier:env"),
        ("dev", "protect", "pipeline-sandbox:protect: unknown key; did you mean tier:protect?"),
        ("dev", "ttl", "pipeline-sandbox:ttl: unknown key; did you mean sandbox:ttl?"),
        ("alice-x", "colour", "pipeline-sandbox:colour: unknown key; this program reads only sandbox:*"),
    ],
)
def test_keys_in_the_projects_own_namespace_are_refused_naming_the_fix(
    stack: str, key: str, expected: str
) -> None:
    sandbox = {"sandbox:branch": "x", "sandbox:owner": "a@b.c", "sandbox:image": "r/p:1"}
    failure = refused(stack, {**(sandbox if stack == "alice-x" else {}), f"pipeline-sandbox:{key}": "dev"})
    message = str(failure.error)
    assert expected in message
    assert f"pulumi config rm pipeline-sandbox:{key}" in message


def test_a_project_namespace_key_is_reported_with_every_other_bad_key() -> None:
    failure = refused("alice-x", {"pipeline-sandbox:tier": "dev", "sandbox:ttl": "soon"})
    assert "pipeline-sandbox:tier: unknown key" in str(failure.error)
    assert "sandbox:ttl: expected a duration" in str(failure.error)


def test_every_bad_key_is_reported_at_once() -> None:
    failure = refused(
        "alice-x", {"sandbox:ttl": "soon", "sandbox:archive": "perhaps", "sandbox:branch": "a..b"}
    )
    message = str(failure.error)
    for key in ("sandbox:ttl", "sandbox:archive", "sandbox:branch"):
        assert key in message


def test_missing_git_branch_asks_for_the_key(git_checkout: Callable[..., Path]) -> None:
    checkout = git_checkout(detached=True)
    failure = refused("alice-x", {"sandbox:gitDir": str(checkout)})
    assert "sandbox:branch: not set" in str(failure.error)
    assert "pulumi config set sandbox:branch" in str(failure.error)


def test_outside_a_git_repository_every_git_default_is_named(tmp_path: Path) -> None:
    failure = refused("alice-x", {"sandbox:gitDir": str(tmp_path)})
    for key in ("sandbox:branch", "sandbox:owner", "sandbox:image"):
        assert f"{key}: not set" in str(failure.error)


@pytest.mark.parametrize("environment", ["dev", "stage", "prod"])
def test_tier_stacks_run_and_export_their_environment(environment: str) -> None:
    from tests.tier_support import tier_run

    run = tier_run(environment)
    assert run.outputs["environment"] == environment
    assert run.outputs["versions"]["lakefs"]
    assert run.one("pipeline-sandbox:tier:Tier").name == "tier"


def test_invalid_environment_is_refused_by_name() -> None:
    failure = refused("dev", {"tier:environment": "qa"})
    assert "tier:environment: expected 'dev', 'stage' or 'prod', got 'qa'" in str(failure.error)


def test_sandbox_keys_on_a_tier_stack_are_refused() -> None:
    failure = refused("dev", {"sandbox:ttl": "1d"})
    assert "sandbox:ttl: sandbox keys do not apply to a tier stack" in str(failure.error)


def test_secret_values_are_not_echoed_in_errors() -> None:
    from tests.conftest import SecretValue

    failure = refused("alice-x", {"sandbox:branch": "x", "sandbox:owner": SecretValue("s3cr3t\x01")})
    assert "s3cr3t" not in str(failure.error)
    assert "sandbox:owner" in str(failure.error)
