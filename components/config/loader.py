"""Reads, validates and resolves the stack's configuration, once, before any resource is declared.

The stack kind follows from its config: ``tier:environment`` makes a tier stack; every other stack is
a sandbox for one git branch, which needs no stack file at all. Every problem found is reported in
one :class:`ConfigError`, each naming its ``namespace:key``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from components.charts import ChartLocation, ChartSourceError, locate_chart
from components.config.errors import ConfigError, ConfigProblem
from components.config.model import ConfigModel, problems_from_validation
from components.config.sandbox import SandboxConfig
from components.config.source import namespace_values
from components.config.tier import TierConfig, plain_key_pair_problems
from components.gitinfo import GitCheckout, read_checkout
from components.naming import SandboxNames, sandbox_names

SANDBOX = "sandbox"
TIER = "tier"
_Model = TypeVar("_Model", bound=ConfigModel)


@dataclass(frozen=True)
class SandboxStackConfig:
    """A sandbox stack's config with every git-derived default filled in."""

    config: SandboxConfig
    git_branch: str
    branch_is_explicit: bool
    """True when ``sandbox:branch`` was set; the branch guard then trusts it over the checkout."""
    commit: str | None
    owner: str
    names: SandboxNames
    checkout: GitCheckout


@dataclass(frozen=True)
class TierStackConfig:
    """A tier stack's config, with its chart sources located."""

    config: TierConfig
    charts: dict[str, ChartLocation]
    """Per chart name (``lakefs``, ``dagster``): what its Chart resource is given."""


StackConfig = SandboxStackConfig | TierStackConfig


def load_stack_config(
    raw: Mapping[str, Any],
    secret_keys: set[str],
    project_dir: Path,
    project: str,
    checkout_reader: Callable[[Path], GitCheckout] = read_checkout,
) -> StackConfig:
    """Validates the raw ``namespace:key`` map into a tier or sandbox stack config.

    Args:
        raw: every ``namespace:key`` set for the stack.
        secret_keys: the keys whose values are secret and must never be echoed.
        project_dir: directory of ``Pulumi.yaml``; ``sandbox:gitDir`` is relative to it.
        project: the Pulumi project name, the namespace ``pulumi config set`` uses for a bare key.
        checkout_reader: reads the git checkout a sandbox belongs to.

    Raises:
        ConfigError: one or more keys are invalid; every one is listed.
    """
    sandbox_values = namespace_values(raw, SANDBOX)
    tier_values = namespace_values(raw, TIER)
    # A project named like one of the program's own namespaces would make its keys look foreign.
    project_keys = list(namespace_values(raw, project)) if project not in (SANDBOX, TIER) else []
    if "environment" in tier_values:
        misplaced = [
            ConfigProblem(
                f"{SANDBOX}:{key}", "sandbox keys do not apply to a tier stack (it sets tier:environment)"
            )
            for key in sandbox_values
        ]
        misplaced += _project_key_problems(project, project_keys, [TierConfig, SandboxConfig])
        plain_pair = plain_key_pair_problems(tier_values.get("lakefs"), secret_keys)
        # Even set in plain text, the key pair is never echoed back.
        redacted = secret_keys | ({f"{TIER}:lakefs"} if plain_pair else set())
        tier = _validate(TIER, TierConfig, tier_values, redacted, misplaced + plain_pair)
        return TierStackConfig(tier, _locate_charts(tier, project_dir))
    misplaced = [
        ConfigProblem(
            f"{TIER}:{key}",
            "tier keys apply only to tier stacks, which set tier:environment to dev, stage or prod",
        )
        for key in tier_values
    ]
    misplaced += _project_key_problems(project, project_keys, [SandboxConfig, TierConfig])
    config = _validate(SANDBOX, SandboxConfig, sandbox_values, secret_keys, misplaced)
    return _resolve_sandbox(config, checkout_reader(project_dir / config.git_dir))


_NAMESPACES: dict[type[ConfigModel], str] = {SandboxConfig: SANDBOX, TierConfig: TIER}


def _project_key_problems(
    project: str, keys: list[str], models: list[type[ConfigModel]]
) -> list[ConfigProblem]:
    """Refuses keys in the project's own namespace, where ``pulumi config set <key>`` puts a bare key.

    The program reads none of them, so accepting them would silently ignore what the user set.
    ``models`` are tried in order for a key of the same name to suggest instead.
    """
    problems = []
    for key in keys:
        namespace = next((_NAMESPACES[m] for m in models if key in m.accepted_keys()), None)
        if namespace is None:
            hint = (
                f"this program reads only {SANDBOX}:* (sandbox stacks) and {TIER}:* (tier stacks) keys; "
                f"remove it with `pulumi config rm {project}:{key}`"
            )
        else:
            hint = (
                f"did you mean {namespace}:{key}? A key set without a namespace lands in the project's "
                f"({project}:), which this program does not read; move it with "
                f"`pulumi config rm {project}:{key}` and `pulumi config set {namespace}:{key} <value>`"
            )
        problems.append(ConfigProblem(f"{project}:{key}", f"unknown key; {hint}"))
    return problems


def _validate(
    namespace: str,
    model: type[_Model],
    values: dict[str, Any],
    secret_keys: set[str],
    problems: list[ConfigProblem],
) -> _Model:
    try:
        validated = model.model_validate(values)
    except ValidationError as error:
        raise ConfigError(
            [*problems, *problems_from_validation(namespace, model, error, secret_keys)]
        ) from None
    if problems:
        raise ConfigError(problems)
    return validated


def _locate_charts(config: TierConfig, project_dir: Path) -> dict[str, ChartLocation]:
    """Each chart's location; a local chart that is missing, or another chart or version, is refused."""
    pinned = {"lakefs": config.versions.lakefs_chart, "dagster": config.versions.dagster}
    sources = config.charts.model_dump()
    charts, problems = {}, []
    for name, version in pinned.items():
        try:
            charts[name] = locate_chart(sources[name], name, version, project_dir)
        except ChartSourceError as error:
            problems.append(ConfigProblem(f"{TIER}:charts.{name}", str(error)))
    if problems:
        raise ConfigError(problems)
    return charts


def _resolve_sandbox(config: SandboxConfig, checkout: GitCheckout) -> SandboxStackConfig:
    problems = []
    branch = config.branch or checkout.branch
    if branch is None:
        problems.append(
            ConfigProblem(
                "sandbox:branch",
                f"not set, and {checkout.directory!r} has no branch checked out (detached HEAD or not a "
                "git repository); set it with `pulumi config set sandbox:branch <git-branch>`",
            )
        )
    owner = config.owner or checkout.user_email
    if owner is None:
        problems.append(
            ConfigProblem(
                "sandbox:owner",
                "not set, and git has no user.email; "
                "set it with `pulumi config set sandbox:owner <you@example.com>`",
            )
        )
    if config.image is None and checkout.commit is None:
        problems.append(
            ConfigProblem(
                "sandbox:image",
                f"not set, and {checkout.directory!r} has no git commit to tag the tier's code image with; "
                "set it with `pulumi config set sandbox:image <repository>:<tag>`",
            )
        )
    if problems or branch is None or owner is None:
        raise ConfigError(problems)
    return SandboxStackConfig(
        config=config,
        git_branch=branch,
        branch_is_explicit=config.branch is not None,
        commit=checkout.commit,
        owner=owner,
        names=sandbox_names(branch),
        checkout=checkout,
    )
