"""`Repository`: a lakeFS repository, created or adopted, never silently replaced.

Usage::

    repo = Repository("lake", RepositoryArgs(connection=conn, name="lake",
                      storage_namespace="s3://bucket/lake", default_branch="main"))

Create adopts an existing repository with the same name when its storage namespace and default
branch match, and refuses one that differs. Changing name, storage namespace or default branch is
rejected by `check` with instructions: lakeFS cannot rename or move a repository, and a replacement
would delete the old one with its history. Delete leaves the repository in place unless
`force_destroy` is true, because one stray `pulumi destroy` must not drop a data lake's metadata.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, ClassVar

import lakefs_sdk
import pulumi
import pulumi.dynamic as dyn

from components.lakefs import errors
from components.lakefs.client import Session
from components.lakefs.connection import LakeFSConnection, LakeFSResource
from components.lakefs.provider import (
    BRANCH_ID,
    REPOSITORY_ID,
    STORAGE_NAMESPACE,
    LakeFSProvider,
    Rule,
    matches,
)

_IMMUTABLE = ("name", "storageNamespace", "defaultBranch")


@dataclass(frozen=True)
class RepositoryArgs:
    """Inputs of a `Repository`.

    Args:
        connection: Where lakeFS is and how to log in.
        name: Repository id (^[a-z0-9][a-z0-9-]{2,62}$).
        storage_namespace: Object store location, e.g. "s3://bucket/prefix".
        default_branch: Default branch created with the repository.
        force_destroy: Really delete the repository (metadata) on `pulumi destroy`.
    """

    connection: LakeFSConnection
    name: pulumi.Input[str]
    storage_namespace: pulumi.Input[str]
    default_branch: pulumi.Input[str] = "main"
    force_destroy: pulumi.Input[bool] = False


class RepositoryProvider(LakeFSProvider):
    """CRUD of one lakeFS repository; see the module docstring for the semantics."""

    rules: ClassVar[tuple[Rule, ...]] = (
        ("name", matches(REPOSITORY_ID), "must match ^[a-z0-9][a-z0-9-]{2,62}$"),
        (
            "storageNamespace",
            matches(STORAGE_NAMESPACE),
            "must start with s3://, gs://, http(s)://, mem://, local:// or transient://",
        ),
        ("defaultBranch", matches(BRANCH_ID), "must match ^\\w[-\\w]*$"),
        ("forceDestroy", lambda v: isinstance(v, bool), "must be true or false"),
    )
    defaults: ClassVar[dict[str, Any]] = {"defaultBranch": "main", "forceDestroy": False}

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        result = super().check(olds, news)
        for key in _immutable_changes(olds, result.inputs):
            result.failures.append(dyn.CheckFailure(key, _immutable_reason(key, olds, result.inputs)))
        return result

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        changed = _immutable_changes(olds, news)
        if changed:  # `check` catches this first; kept for olds that check never saw (imports)
            raise errors.ImmutablePropertyError(_immutable_reason(changed[0], olds, news))
        return super().diff(id_, olds, news)

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        name = props["name"]
        with self.session(props) as s:
            existing = _get(s, name)
            if existing is None:
                try:
                    existing = s.call(
                        s.where("creating repository", name),
                        s.repositories.create_repository,
                        lakefs_sdk.RepositoryCreation(
                            name=name,
                            storage_namespace=props["storageNamespace"],
                            default_branch=props["defaultBranch"],
                            storage_id=None,
                        ),
                        idempotent=False,
                    )
                except errors.LakeFSConflictError:
                    existing = _adopt(s, props, _get(s, name))
            else:
                existing = _adopt(s, props, existing)
        return dyn.CreateResult(name, {**props, "creationDate": existing.creation_date})

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        name = props.get("name") or id_
        with self.session(props) as s:
            repo = _get(s, name)
        if repo is None:
            return dyn.ReadResult(None, {})
        outs = {
            **props,
            "name": repo.id,
            "storageNamespace": repo.storage_namespace,
            "defaultBranch": repo.default_branch,
            "creationDate": repo.creation_date,
        }
        return dyn.ReadResult(id_, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        # Only forceDestroy and the connection can change in place; nothing to do in lakeFS.
        return dyn.UpdateResult({**news, "creationDate": olds.get("creationDate")})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        name = props.get("name") or id_
        if not props.get("forceDestroy", False):
            pulumi.log.warn(
                f"lakeFS repository '{name}' was left in place (forceDestroy is false); "
                "delete it in lakeFS if it is really no longer needed"
            )
            return
        with self.session(props) as s, contextlib.suppress(errors.LakeFSNotFoundError):
            s.call(
                s.where("deleting repository", name),
                s.repositories.delete_repository,
                name,
                idempotent=True,
            )


def _get(s: Session, name: str) -> lakefs_sdk.Repository | None:
    try:
        return s.call(
            s.where("reading repository", name), s.repositories.get_repository, name, idempotent=True
        )
    except errors.LakeFSNotFoundError:
        return None


def _adopt(s: Session, props: dict[str, Any], repo: lakefs_sdk.Repository | None) -> lakefs_sdk.Repository:
    """Take over an existing repository only if it is the one we would have created."""
    name = props["name"]
    where = s.where("adopting existing repository", name).describe()
    if repo is None:  # 409 on create but no repository by that name: namespace clash or a race
        raise errors.LakeFSConflictError(f"{where} failed: creation conflicted but it does not exist; retry")
    for key, actual in (("storageNamespace", repo.storage_namespace), ("defaultBranch", repo.default_branch)):
        if props[key] != actual:
            raise errors.LakeFSConflictError(
                f"{where} refused: it exists with {key} '{actual}', not '{props[key]}'. Use that "
                f"{key} in the stack config, or choose another repository name"
            )
    pulumi.log.info(f"adopted existing lakeFS repository '{name}' ({repo.storage_namespace})")
    return repo


def _immutable_changes(olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
    if not olds.get("name"):
        return []  # first create: nothing to compare with
    return [key for key in _IMMUTABLE if key in news and olds.get(key) != news.get(key)]


def _immutable_reason(key: str, olds: dict[str, Any], news: dict[str, Any]) -> str:
    return (
        f"{key} of lakeFS repository '{olds.get('name')}' cannot change ('{olds.get(key)}' -> "
        f"'{news.get(key)}'): lakeFS cannot rename or move a repository, and replacing it would delete "
        "it with its history. Keep the old value; to really move, declare a new Repository resource "
        "(new Pulumi name), migrate the data, then remove the old one (with forceDestroy)"
    )


class Repository(LakeFSResource, module="lakefs", name="Repository"):
    """A lakeFS repository."""

    name: pulumi.Output[str]
    """Repository id."""
    storage_namespace: pulumi.Output[str]
    """Object store location of the repository."""
    default_branch: pulumi.Output[str]
    """Default branch."""
    creation_date: pulumi.Output[int]
    """Creation time in lakeFS (Unix seconds)."""

    def __init__(self, name: str, args: RepositoryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "connection": args.connection.to_props(),
            "name": args.name,
            "storage_namespace": args.storage_namespace,
            "default_branch": args.default_branch,
            "force_destroy": args.force_destroy,
            "creation_date": None,
        }
        super().__init__(RepositoryProvider(), name, props, opts)
