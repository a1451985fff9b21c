"""Shared plumbing of the lakeFS dynamic providers: sessions, input checks and diffs.

Providers see camelCase properties. They keep no attributes at all, so the pickled provider carries
no client, socket or credential; `session(props)` builds a fresh client inside each method.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pulumi.dynamic as dyn
from pulumi.runtime import rpc

from components.lakefs.client import ConnectionSettings, Session

BRANCH_ID = re.compile(r"^\w[-\w]*$", re.ASCII)
REPOSITORY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
STORAGE_NAMESPACE = re.compile(r"^(s3|gs|https?|mem|local|transient)://")

Rule = tuple[str, Callable[[Any], bool], str]
"""(property, predicate on its value, reason when the predicate is false)."""


def is_str(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def matches(pattern: re.Pattern[str]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and bool(pattern.match(value))


REPOSITORY_RULE: Rule = ("repository", matches(REPOSITORY_ID), "must match ^[a-z0-9][a-z0-9-]{2,62}$")
"""The `repository` input of every resource that lives in a repository."""
BRANCH_RULE: Rule = ("branch", matches(BRANCH_ID), "must match ^\\w[-\\w]*$ (no '/', '.' or spaces)")
"""The `branch` input of the resources that name one branch."""


class LakeFSProvider(dyn.ResourceProvider):
    """Base provider: subclasses declare `rules`, `defaults` and `replace_keys`."""

    rules: ClassVar[tuple[Rule, ...]] = ()
    defaults: ClassVar[Mapping[str, Any]] = {}
    replace_keys: ClassVar[tuple[str, ...]] = ()
    """Properties whose change means a new object in lakeFS (replacement)."""

    def session(self, props: Mapping[str, Any]) -> Session:
        return Session(ConnectionSettings.from_props(props), credentials_hint=self.credentials_hint(props))

    def credentials_hint(self, props: Mapping[str, Any]) -> str | None:
        """Where this resource's key pair comes from and what to do when lakeFS rejects it."""
        return None

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        inputs = {**self.defaults, **news}
        failures = [dyn.CheckFailure(prop, reason) for prop, reason in connection_failures(inputs)]
        for prop, ok, reason in self.rules:
            value = inputs.get(prop)
            if not _unknown(value) and not ok(value):
                failures.append(dyn.CheckFailure(prop, f"{prop}={value!r}: {reason}"))
        return dyn.CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        changed = changed_keys(olds, news)
        replaces = [key for key in self.replace_keys if key in changed]
        # The replacement has the same lakeFS name as the old object: the old one must go first.
        same_name = not (set(replaces) & {"repository", "branch", "tag", "name"})
        return dyn.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(replaces) and same_name,
        )


def changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> set[str]:
    """Input keys whose value differs between the old state and the new inputs."""
    return {key for key in news if key != "__provider" and olds.get(key) != news.get(key)}


def connection_failures(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Validate a `connection` property without touching the network; (property, reason) pairs."""
    conn = props.get("connection")
    if _unknown(conn):
        return []  # computed by another resource; `pulumi up` checks again once it is known
    if not isinstance(conn, Mapping):
        return [("connection", "connection (endpoint, accessKeyId, secretAccessKey) is required")]
    failures = []
    endpoint = conn.get("endpoint")
    if (
        isinstance(endpoint, str)
        and not _unknown(endpoint)
        and urlsplit(endpoint).scheme not in ("http", "https")
    ):
        failures.append(("connection.endpoint", "endpoint must be an http:// or https:// URL"))
    for key in ("endpoint", "accessKeyId", "secretAccessKey"):
        if conn.get(key) in (None, ""):
            failures.append((f"connection.{key}", f"connection.{key} is required"))
    return failures


def setting_name(props: Mapping[str, Any], key: str) -> str | None:
    """The stack setting input `key` comes from, if the resource was told (`settingNames`)."""
    names = props.get("settingNames")
    name = names.get(key) if isinstance(names, Mapping) else None
    return name if isinstance(name, str) and name else None


def setting_names_ok(value: Any) -> bool:
    """`settingNames`: absent, or a map of input names to setting names (both non-empty text)."""
    return value is None or (
        isinstance(value, Mapping) and all(is_str(k) and is_str(v) for k, v in value.items())
    )


def _unknown(value: Any) -> bool:
    """True for values not known during preview (rendered by the engine as a fixed UUID)."""
    return value == rpc.UNKNOWN


def resource_id(repository: str, name: str) -> str:
    """Id of a named object inside a repository; "/" cannot occur in either part."""
    return f"{repository}/{name}"
