"""The sandbox's view of its tier stack: the tier's output contract, read and checked once.

Every output a sandbox needs is validated together; a missing or malformed one fails the update
naming the tier stack and each offending output. Plain and secret outputs are checked separately so
that plain values (namespace, repository...) do not become secret by association.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.charts import PUBLIC_REPOSITORIES, check_chart_source
from components.config.tier import HTTP_URL, postgres_version
from components.images import check_registry

_URL = re.compile(HTTP_URL)
# The tier versions a sandbox runs itself: Dagster (its own host) and Postgres (its run storage).
SANDBOX_VERSIONS = {"dagster", "postgres"}


def _url(value: Any) -> bool:
    return isinstance(value, str) and bool(_URL.match(value))


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _versions(value: Any) -> bool:
    if not (
        isinstance(value, dict) and all(_text(v) for v in value.values()) and set(value) >= SANDBOX_VERSIONS
    ):
        return False
    try:
        postgres_version(value["postgres"])
    except ValueError:
        return False
    return True


# output name -> (check, what is expected)
PLAIN_OUTPUTS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "environment": (_text, "the tier's environment name"),
    "namespace": (_text, "the tier's namespace"),
    "versions": (
        _versions,
        "an object of component versions including 'dagster' and 'postgres' (15 or newer)",
    ),
    "lakefsEndpoint": (_url, "an http(s) URL"),
    "lakefsInternalEndpoint": (_url, "an http(s) URL"),
    "lakefsRepository": (_text, "a repository name"),
    "lakefsDefaultBranch": (_text, "a branch name"),
    "metastoreUri": (_text, "a thrift:// URI"),
    "codeImageRepository": (_text, "an image repository"),
    "codeModule": (_text, "the Python module of the pipeline's Dagster Definitions"),
}


def _accepted_by(check: Callable[[str], str]) -> Callable[[Any], bool]:
    def is_valid(value: Any) -> bool:
        try:
            check(value)
        except (TypeError, ValueError):
            return False
        return True

    return is_valid


# Outputs that tier stacks deployed before they existed lack: a sandbox then does what those tiers did.
# output name -> (check, what is expected, value when the tier exports none)
OPTIONAL_OUTPUTS: dict[str, tuple[Callable[[Any], bool], str, Any]] = {
    "dagsterChart": (
        _accepted_by(check_chart_source),
        "a chart repository URL, an oci:// reference or a local chart path",
        PUBLIC_REPOSITORIES["dagster"],
    ),
    "imageRegistry": (_accepted_by(check_registry), "a registry such as registry.internal:5000/mirror", None),
}
SECRET_OUTPUTS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "lakefsAccessKeyId": (_text, "an access key id"),
    "lakefsSecretAccessKey": (_text, "a secret access key"),
}


class TierContractError(pulumi.RunError):
    """The tier stack's outputs do not satisfy what a sandbox needs."""


def contract_problems(
    tier_stack: str,
    values: Mapping[str, Any],
    expected: Mapping[str, tuple[Callable[[Any], bool], str]],
    show_values: bool,
) -> list[str]:
    """One line per missing or malformed output; values are shown only for plain outputs."""
    problems = []
    for name, (is_valid, description) in expected.items():
        value = values.get(name)
        if value is None:
            problems.append(f"{name}: missing (expected {description})")
        elif not is_valid(value):
            shown = f", got {value!r}" if show_values else ""
            problems.append(f"{name}: expected {description}{shown}")
    return problems


def optional_output_problems(
    values: dict[str, Any], optional: Mapping[str, tuple[Callable[[Any], bool], str, Any]]
) -> list[str]:
    """One line per malformed optional output; fills in the default of each one that is missing."""
    problems = []
    for name, (is_valid, description, default) in optional.items():
        if values.get(name) is None:
            values[name] = default
        elif not is_valid(values[name]):
            problems.append(f"{name}: expected {description}, got {values[name]!r}")
    return problems


def _checked(
    tier_stack: str,
    names: Sequence[str],
    expected: Mapping[str, tuple[Callable[[Any], bool], str]],
    show: bool,
    optional: Mapping[str, tuple[Callable[[Any], bool], str, Any]] | None = None,
) -> Callable[[list[Any]], dict[str, Any]]:
    def check(values: list[Any]) -> dict[str, Any]:
        by_name = dict(zip(names, values, strict=True))
        problems = contract_problems(tier_stack, by_name, expected, show)
        problems += optional_output_problems(by_name, optional or {})
        if problems:
            lines = "\n".join(f"  - {p}" for p in problems)
            raise TierContractError(
                f"tier stack {tier_stack!r} does not provide what a sandbox needs (is it deployed, "
                f"and is sandbox:tier right?):\n{lines}"
            )
        return by_name

    return check


@dataclass(frozen=True)
class TierLink:
    """Validated tier outputs, each an Output usable as a resource input."""

    stack: str
    plain: pulumi.Output[dict[str, Any]]
    secrets: pulumi.Output[dict[str, Any]]

    def get(self, name: str) -> pulumi.Output[Any]:
        """A plain tier output by its contract name, e.g. ``lakefsRepository``."""
        return self.plain.apply(lambda values: values[name])

    def secret(self, name: str) -> pulumi.Output[str]:
        """A secret tier output; stays secret."""
        return pulumi.Output.secret(self.secrets.apply(lambda values: values[name]))

    @property
    def ready(self) -> pulumi.Output[bool]:
        """Resolves once the whole contract is valid; fails otherwise. Carries no secret."""
        return pulumi.Output.all(
            self.plain, pulumi.Output.unsecret(self.secrets.apply(lambda _: True))
        ).apply(lambda _: True)


def link_tier(name: str, tier_stack: str, opts: pulumi.ResourceOptions | None = None) -> TierLink:
    """Reads ``tier_stack``'s outputs through a StackReference and validates the contract."""
    reference = pulumi.StackReference(name, tier_stack, opts=opts)
    plain_names, secret_names = [*PLAIN_OUTPUTS, *OPTIONAL_OUTPUTS], list(SECRET_OUTPUTS)
    plain = pulumi.Output.all(*[reference.get_output(n) for n in plain_names]).apply(
        _checked(tier_stack, plain_names, PLAIN_OUTPUTS, show=True, optional=OPTIONAL_OUTPUTS)
    )
    secrets = pulumi.Output.all(*[reference.get_output(n) for n in secret_names]).apply(
        _checked(tier_stack, secret_names, SECRET_OUTPUTS, show=False)
    )
    return TierLink(tier_stack, plain, secrets)
