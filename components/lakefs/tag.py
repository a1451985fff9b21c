"""`Tag`: a lakeFS tag at a ref.

Usage::

    Tag("release-1", TagArgs(connection=conn, repository="lake", tag="v1", ref="main"))

Create resolves `ref` to a commit and tags it; an existing tag at that same commit is adopted, one at
another commit is refused. Changing repository, tag or ref replaces the tag. Delete removes the tag
(a tag already gone counts as deleted); the commit it pointed at is untouched.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import lakefs_sdk
import pulumi
import pulumi.dynamic as dyn

from components.lakefs import errors
from components.lakefs.connection import LakeFSConnection, LakeFSResource
from components.lakefs.provider import (
    REPOSITORY_RULE,
    LakeFSProvider,
    Rule,
    is_str,
    resource_id,
)

# lakeFS's tag id rule (git-check-ref-format, `ValidateTagID`), except that we also forbid "/":
# the tag id is part of this resource's id and travels in URL paths.
_BAD_TAG = re.compile(r"(^@$)|(\.$)|(\.lock$)|(\.\.)|(@\{)|[\^:?*\[\\/~\x00-\x20]")


def _tag_ok(value: Any) -> bool:
    return isinstance(value, str) and value != "" and not _BAD_TAG.search(value)


@dataclass(frozen=True)
class TagArgs:
    """Inputs of a `Tag`.

    Args:
        connection: Where lakeFS is and how to log in.
        repository: Repository id.
        tag: Tag id.
        ref: Branch, tag or commit to tag; resolved to a commit at create.
    """

    connection: LakeFSConnection
    repository: pulumi.Input[str]
    tag: pulumi.Input[str]
    ref: pulumi.Input[str]


class TagProvider(LakeFSProvider):
    """Create, adopt, read and delete one lakeFS tag."""

    rules: ClassVar[tuple[Rule, ...]] = (
        REPOSITORY_RULE,
        ("tag", _tag_ok, "must be a valid lakeFS tag id without '/', '~', spaces or '..'"),
        ("ref", is_str, "must be a branch, tag or commit id"),
    )
    replace_keys: ClassVar[tuple[str, ...]] = ("repository", "tag", "ref")

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        repo, tag = props["repository"], props["tag"]
        with self.session(props) as s:
            commit = s.resolve_commit(repo, props["ref"])
            try:
                s.call(
                    s.where("creating tag", repo, tag),
                    s.tags.create_tag,
                    repo,
                    lakefs_sdk.TagCreation(id=tag, ref=commit),
                    idempotent=False,
                )
            except errors.LakeFSConflictError:
                existing = s.call(
                    s.where("reading tag", repo, tag), s.tags.get_tag, repo, tag, idempotent=True
                )
                if existing.commit_id != commit:
                    raise errors.LakeFSConflictError(
                        f"tag '{tag}' already exists in repository '{repo}' at commit {existing.commit_id}, "
                        f"not at {commit} ('{props['ref']}'); delete it or choose another tag id"
                    ) from None
                pulumi.log.info(f"adopted existing lakeFS tag '{tag}' in repository '{repo}'")
        return dyn.CreateResult(resource_id(repo, tag), {**props, "commitId": commit})

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        repo, _, tag = id_.partition("/")
        repo, tag = props.get("repository") or repo, props.get("tag") or tag
        with self.session(props) as s:
            try:
                ref = s.call(s.where("reading tag", repo, tag), s.tags.get_tag, repo, tag, idempotent=True)
            except errors.LakeFSNotFoundError:
                return dyn.ReadResult(None, {})
        return dyn.ReadResult(id_, {**props, "repository": repo, "tag": tag, "commitId": ref.commit_id})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        return dyn.UpdateResult({**news, "commitId": olds.get("commitId")})  # connection only

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        repo, tag = props["repository"], props["tag"]
        with self.session(props) as s, contextlib.suppress(errors.LakeFSNotFoundError):
            s.call(s.where("deleting tag", repo, tag), s.tags.delete_tag, repo, tag, idempotent=True)


class Tag(LakeFSResource, module="lakefs", name="Tag"):
    """A lakeFS tag."""

    repository: pulumi.Output[str]
    """Repository id."""
    tag: pulumi.Output[str]
    """Tag id."""
    commit_id: pulumi.Output[str]
    """Commit the tag points at."""

    def __init__(self, name: str, args: TagArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "connection": args.connection.to_props(),
            "repository": args.repository,
            "tag": args.tag,
            "ref": args.ref,
            "commit_id": None,
        }
        super().__init__(TagProvider(), name, props, opts)
