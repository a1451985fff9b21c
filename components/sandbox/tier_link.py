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
from components.config.mirror import MAVEN_CENTRAL
from components.config.tier import HTTP_URL, postgres_version
from components.images import check_registry

_URL = re.compile(HTTP_URL)
# The tier versions a sandbox runs itself: Dagster (its own host) and Postgres (its run storage).
SANDBOX_VERSIONS = {"dagster", "postgres"}
_SSLMODES = {"disable", "require"}


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


def _metastore_database(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and _text(value.get("host"))
        and _text(value.get("name"))
        and isinstance(value.get("port"), int | float)
        and value.get("sslmode") in _SSLMODES
    )


def _catalog_versions(value: Any) -> bool:
    return isinstance(value, dict) and _text(value.get("metastore"))


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
    "mavenRepository": (_url, "an http(s) Maven repository URL", MAVEN_CENTRAL),
}
SECRET_OUTPUTS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "lakefsAccessKeyId": (_text, "an access key id"),
    "lakefsSecretAccessKey": (_text, "a secret access key"),
}
# Only an isolated metastore reads these; tiers deployed before they existed lack them.
CATALOG_PLAIN_OUTPUTS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "metastoreDatabase": (_metastore_database, "an object with host, port, name and sslmode"),
}
CATALOG_VERSIONS: tuple[str, tuple[Callable[[Any], bool], str]] = (
    "versions",
    (_catalog_versions, "an object of component versions including 'metastore'"),
)
CATALOG_SECRET_OUTPUTS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "metastoreReaderUsername": (_text, "the read-only role of the tier's metastore database"),
    "metastoreReaderPassword": (_text, "its password"),
}
CATALOG_HINT = (
    "a sandbox with its own metastore (sandbox:metastore isolated, the default) copies the tier's catalog "
    "through these outputs; run `pulumi up` on the tier stack to add them, or set "
    "`pulumi config set sandbox:metastore shared` to use the tier's metastore as before"
)


TIER_KEY = "sandbox:tier (default prod)"
"""How messages name the setting that picks the tier; unset, a sandbox reads the prod tier."""


class TierContractError(pulumi.RunError):
    """The tier stack cannot be read, or its outputs do not satisfy what a sandbox needs."""


def unreadable_tier_message(tier_stack: str, error: BaseException) -> str:
    """What to do when the tier stack cannot be read at all (most often: no such stack)."""
    return (
        f"cannot read tier stack {tier_stack!r}, which {TIER_KEY} names ({error}). Point the sandbox "
        "at a deployed tier stack of this project, e.g. `pulumi config set sandbox:tier dev`, or "
        f"deploy that tier first (`make up STACK={_short(tier_stack)}`); `pulumi stack ls` lists the "
        "stacks this backend has."
    )


def _short(tier_stack: str) -> str:
    return tier_stack.rsplit("/", 1)[-1]


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
    *,
    optional: Mapping[str, tuple[Callable[[Any], bool], str, Any]] | None = None,
    catalog: Mapping[str, tuple[Callable[[Any], bool], str]] | None = None,
) -> Callable[[list[Any]], dict[str, Any]]:
    """Checks ``expected``, then ``catalog`` (outputs an isolated metastore needs) with its own hint."""

    def check(values: list[Any]) -> dict[str, Any]:
        by_name = dict(zip(names, values, strict=True))
        problems = contract_problems(tier_stack, by_name, expected, show)
        problems += optional_output_problems(by_name, optional or {})
        if problems:
            lines = "\n".join(f"  - {p}" for p in problems)
            raise TierContractError(
                f"tier stack {tier_stack!r} does not provide what a sandbox needs; check that "
                f"{TIER_KEY} names a tier stack whose last `pulumi up` succeeded:\n{lines}"
            )
        missing = contract_problems(tier_stack, by_name, catalog or {}, show)
        if missing:
            lines = "\n".join(f"  - {p}" for p in missing)
            raise TierContractError(
                f"tier stack {tier_stack!r} is older than this sandbox:\n{lines}\n{CATALOG_HINT}"
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


async def _readable(reference: pulumi.StackReference, tier_stack: str) -> bool:
    """True once the reference has read a tier stack; otherwise raises (and logs) what to do.

    The engine fails the read of a missing stack with only ``unknown stack "<name>"`` and the program
    cannot replace that message; this adds one, logged at once (not attached to the failed reference,
    whose URN never resolves), that names ``sandbox:tier`` and the fix.
    """
    try:
        outputs = await reference.outputs.future()
    except Exception as error:
        message = unreadable_tier_message(tier_stack, error)
        pulumi.log.error(message)
        raise TierContractError(message) from error
    # Only the names are looked at: values (some secret) never reach a message.
    if await reference.outputs.is_known() and not set(outputs or {}) & {*PLAIN_OUTPUTS, *SECRET_OUTPUTS}:
        # The stack exists but exports nothing of the contract: created and never deployed, a first
        # `pulumi up` that failed, or not a tier stack at all.
        raise TierContractError(
            f"tier stack {tier_stack!r}, which {TIER_KEY} names, exports none of the outputs a sandbox "
            "needs: it has not been deployed (or its first `pulumi up` failed), or it is not a tier "
            f"stack. Deploy it with `make up STACK={_short(tier_stack)}`, or point the sandbox at a "
            "deployed tier with `pulumi config set sandbox:tier <tier stack>`."
        )
    return True


def link_tier(
    name: str, tier_stack: str, *, catalog: bool = False, opts: pulumi.ResourceOptions | None = None
) -> TierLink:
    """Reads ``tier_stack``'s outputs through a StackReference and validates the contract.

    Args:
        catalog: also require what an isolated metastore needs (:data:`CATALOG_PLAIN_OUTPUTS`,
            :data:`CATALOG_SECRET_OUTPUTS`, a ``metastore`` version); a tier that predates them is
            refused with one message naming every missing one and what to run.
    """
    reference = pulumi.StackReference(name, tier_stack, opts=opts)
    readable: pulumi.Output[bool] = pulumi.Output.from_input(_readable(reference, tier_stack))
    plain = _contract(reference, readable, tier_stack, PLAIN_OUTPUTS, show=True, optional=OPTIONAL_OUTPUTS)
    secrets = _contract(reference, readable, tier_stack, SECRET_OUTPUTS, show=False)
    if catalog:
        plain, secrets = _with_catalog(reference, tier_stack, plain, secrets)
    return TierLink(tier_stack, plain, secrets)


def _contract(
    reference: pulumi.StackReference,
    readable: pulumi.Output[bool],
    tier_stack: str,
    expected: Mapping[str, tuple[Callable[[Any], bool], str]],
    *,
    show: bool,
    optional: Mapping[str, tuple[Callable[[Any], bool], str, Any]] | None = None,
) -> pulumi.Output[dict[str, Any]]:
    # Each output is read through get_output, which keeps its secretness; the read check comes first
    # so that a missing stack fails with the explanation rather than the bare read error.
    names = [*expected, *(optional or {})]

    def read(_: bool) -> pulumi.Output[dict[str, Any]]:
        values = pulumi.Output.all(*[reference.get_output(n) for n in names])
        return values.apply(_checked(tier_stack, names, expected, show, optional=optional))

    return readable.apply(read)


def _with_catalog(
    reference: pulumi.StackReference,
    tier_stack: str,
    plain: pulumi.Output[dict[str, Any]],
    secrets: pulumi.Output[dict[str, Any]],
) -> tuple[pulumi.Output[dict[str, Any]], pulumi.Output[dict[str, Any]]]:
    """``plain`` and ``secrets`` with the catalog outputs added, once all of them check out."""
    plain_names = list(CATALOG_PLAIN_OUTPUTS)
    secret_names = list(CATALOG_SECRET_OUTPUTS)
    # Whether a secret output is there is no secret; checking it beside the plain ones names every
    # missing output in one message.
    present = [
        pulumi.Output.unsecret(reference.get_output(n).apply(lambda v: "present" if _text(v) else None))
        for n in secret_names
    ]
    expected = {
        **CATALOG_PLAIN_OUTPUTS,
        CATALOG_VERSIONS[0]: CATALOG_VERSIONS[1],
        **{n: (lambda v: v == "present", d) for n, (_, d) in CATALOG_SECRET_OUTPUTS.items()},
    }
    names = [*plain_names, CATALOG_VERSIONS[0], *secret_names]
    # After the base contract: a tier that fails it is reported for that, not for being older.
    base_ok = pulumi.Output.unsecret(secrets.apply(lambda _: True))
    values: pulumi.Output[list[Any]] = pulumi.Output.all(
        *[reference.get_output(n) for n in plain_names], plain.apply(lambda v: v["versions"]), *present
    )
    checked = pulumi.Output.all(values, base_ok).apply(
        lambda parts: _checked(tier_stack, names, {}, show=True, catalog=expected)(parts[0])
    )
    with_plain = pulumi.Output.all(plain, checked).apply(
        lambda parts: {**parts[0], **{n: parts[1][n] for n in plain_names}}
    )
    catalog_secrets = pulumi.Output.all(*[reference.get_output(n) for n in secret_names]).apply(
        lambda values: dict(zip(secret_names, values, strict=True))
    )
    with_secrets = pulumi.Output.all(secrets, catalog_secrets, checked).apply(
        lambda parts: {**parts[0], **parts[1]}
    )
    return with_plain, with_secrets
