"""`BranchProtection`: our branch protection patterns on a repository, merged with everyone else's.

Usage::

    BranchProtection("lake-protect", BranchProtectionArgs(connection=conn, repository="lake",
                     patterns=["main", "release-*"]))

lakeFS keeps one set of rules per repository (in no fixed order). This resource manages only its own
`patterns`: it adds them, removes them when they leave the list or on delete, and leaves rules it did
not declare alone (an operator's emergency rule survives `pulumi up`). Each change is a
read-modify-write with the GET ETag sent as PUT If-Match, so a concurrent writer makes lakeFS answer
412 and we re-read and retry instead of overwriting. A pattern that someone else added independently
is indistinguishable from ours; it is removed when we remove ours. Refresh reports which of our
patterns are still present, so a rule deleted out of band is re-added by the next `pulumi up`.

A repository with no rules at all is the exception: lakeFS 1.84 answers it with an empty ETag and
refuses an empty If-Match (400), so the first rule can only be written unconditionally. We write it,
then read the rules back: if a concurrent writer replaced them after our write (dropping ours), we
merge again, now conditionally. What no client can see is a rule written by someone else between our
read and our unconditional write (one round trip): ours overwrites it. lakectl and the lakeFS UI have
the same window; only rules that are already non-empty are guarded by the ETag.
"""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import lakefs_sdk
import pulumi
import pulumi.dynamic as dyn

from components.lakefs import errors
from components.lakefs.client import Session
from components.lakefs.connection import LakeFSConnection, LakeFSResource
from components.lakefs.provider import REPOSITORY_RULE, LakeFSProvider, Rule

MAX_ATTEMPTS = 5


def _patterns_ok(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(p, str) and p for p in value)


def is_protected(branch: str, patterns: Sequence[str]) -> bool:
    """Whether any rule pattern covers `branch`.

    lakeFS matches with gobwas/glob; fnmatch agrees on `*`, `?` and `[...]`. A `{a,b}` pattern is not
    understood here, which can only make a protected branch look unprotected, never the reverse.
    """
    return any(fnmatch.fnmatchcase(branch, pattern) for pattern in patterns)


@dataclass(frozen=True)
class BranchProtectionArgs:
    """Inputs of a `BranchProtection`.

    Args:
        connection: Where lakeFS is and how to log in.
        repository: Repository id.
        patterns: Branch name patterns to protect (fnmatch style: "*", "?").
    """

    connection: LakeFSConnection
    repository: pulumi.Input[str]
    patterns: pulumi.Input[Sequence[pulumi.Input[str]]]


class BranchProtectionProvider(LakeFSProvider):
    """Adds and removes our patterns in a repository's branch protection rules."""

    rules: ClassVar[tuple[Rule, ...]] = (
        REPOSITORY_RULE,
        ("patterns", _patterns_ok, "must be a list of non-empty patterns"),
    )
    replace_keys: ClassVar[tuple[str, ...]] = ("repository",)

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        with self.session(props) as s:
            _apply(s, props["repository"], add=props["patterns"], remove=[])
        return dyn.CreateResult(props["repository"], dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        repo = props.get("repository") or id_
        with self.session(props) as s:
            # A repository deleted moments ago still answers its rules from lakeFS's cache.
            if not s.lookup_repository(repo).live:
                return dyn.ReadResult(None, {})
            try:
                current, _ = protection_rules(s, repo)
            except errors.LakeFSNotFoundError:
                return dyn.ReadResult(None, {})
        ours = [p for p in props.get("patterns", []) if p in current]
        return dyn.ReadResult(id_, {**props, "repository": repo, "patterns": ours})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        dropped = [p for p in olds.get("patterns", []) if p not in news["patterns"]]
        with self.session(news) as s:
            _apply(s, news["repository"], add=news["patterns"], remove=dropped)
        return dyn.UpdateResult(dict(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        repo = props.get("repository") or id_
        # A repository that is gone took its rules with it.
        with self.session(props) as s, contextlib.suppress(errors.LakeFSNotFoundError):
            _apply(s, repo, add=[], remove=props.get("patterns", []))


def protection_rules(s: Session, repo: str) -> tuple[list[str], str | None]:
    """The repository's rule patterns (in no fixed order) and their ETag ("" or None when none)."""
    response = s.call(
        s.where("reading branch protection rules", repo),
        s.repositories.get_branch_protection_rules_with_http_info,
        repo,
        idempotent=True,
    )
    headers = response.headers or {}
    return [rule.pattern for rule in response.data or []], headers.get("ETag")


def _apply(s: Session, repo: str, add: Sequence[str], remove: Sequence[str]) -> None:
    """Read-modify-write the rules with If-Match, re-reading on 412 (see the module docstring)."""
    where = s.where("updating branch protection rules", repo)
    for _ in range(MAX_ATTEMPTS):
        current, etag = protection_rules(s, repo)
        wanted = [p for p in current if p not in remove] + [p for p in add if p not in current]
        if set(wanted) == set(current):
            return
        rules = [lakefs_sdk.BranchProtectionRule(pattern=p) for p in wanted]
        if etag:
            try:
                s.call(
                    where,
                    s.repositories.set_branch_protection_rules,
                    repo,
                    rules,
                    if_match=etag,
                    idempotent=False,
                )
                return
            except errors.LakeFSPreconditionFailedError:
                continue  # someone else changed the rules since our read: merge again
        if current:
            # lakeFS gives an empty ETag only for no rules; rules without one would be overwritten blind.
            raise errors.LakeFSError(
                f"{where.describe()} refused: lakeFS answered {len(current)} rule(s) without an ETag, so "
                "a write could not be made conditional and might drop someone else's rule; check that "
                "no proxy in front of lakeFS strips the ETag header"
            )
        # No rules yet: lakeFS cannot make this write conditional (empty ETag); read it back instead.
        s.call(where, s.repositories.set_branch_protection_rules, repo, rules, idempotent=False)
        if set(add) <= set(protection_rules(s, repo)[0]):
            return
        # A concurrent writer replaced the rules after our write, dropping ours: merge again.
    raise errors.LakeFSPreconditionFailedError(
        f"{where.describe()} failed: the rules kept changing concurrently ({MAX_ATTEMPTS} attempts); "
        "run the update again"
    )


class BranchProtection(LakeFSResource, module="lakefs", name="BranchProtection"):
    """Our branch protection patterns on one repository."""

    repository: pulumi.Output[str]
    """Repository id."""
    patterns: pulumi.Output[list[str]]
    """Our patterns present in lakeFS (after refresh: the ones still there)."""

    def __init__(
        self, name: str, args: BranchProtectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {
            "connection": args.connection.to_props(),
            "repository": args.repository,
            "patterns": args.patterns,
        }
        super().__init__(BranchProtectionProvider(), name, props, opts)
