"""`Repository`: a lakeFS repository, created or adopted, never silently replaced.

Usage::

    repo = Repository("lake", RepositoryArgs(connection=conn, name="lake",
                      storage_namespace="s3://bucket/lake", default_branch="main"))

Create adopts an existing repository with the same name when its storage namespace and default
branch match, and refuses one that differs. Changing name, storage namespace or default branch is
rejected by `check` with instructions: lakeFS cannot rename or move a repository, and a replacement
would delete the old one with its history. Delete leaves the repository in place unless
`force_destroy` is true, because one stray `pulumi destroy` must not drop a data lake's metadata.

A repository lakeFS deleted moments ago still answers from its cache (see `client`): it is never
adopted and never read as present; create waits until lakeFS has forgotten it. lakeFS never accepts a
storage namespace twice, not even after its repository is deleted: create then fails with
`StorageNamespaceInUseError`, naming the namespace and what to do. `setting_names` lets refusals
name the stack settings the inputs come from (e.g. `tier:lakefs.storageNamespace`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
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
    setting_name,
    setting_names_ok,
)

_IMMUTABLE = ("name", "storageNamespace", "defaultBranch")
_NAMESPACE_IN_USE = "storage namespace already in use"
"""What lakeFS 1.84 says when the namespace already holds a `_lakefs/dummy` marker."""


@dataclass(frozen=True)
class RepositoryArgs:
    """Inputs of a `Repository`.

    Args:
        connection: Where lakeFS is and how to log in.
        name: Repository id (^[a-z0-9][a-z0-9-]{2,62}$).
        storage_namespace: Object store location, e.g. "s3://bucket/prefix".
        default_branch: Default branch created with the repository.
        force_destroy: Really delete the repository (metadata) on `pulumi destroy`.
        setting_names: Stack settings that `name`, `storageNamespace` and `defaultBranch` come from,
            e.g. {"storageNamespace": "tier:lakefs.storageNamespace"}; refusals name them.
    """

    connection: LakeFSConnection
    name: pulumi.Input[str]
    storage_namespace: pulumi.Input[str]
    default_branch: pulumi.Input[str] = "main"
    force_destroy: pulumi.Input[bool] = False
    setting_names: Mapping[str, str] | None = None


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
        ("settingNames", setting_names_ok, "must map input names to stack setting names"),
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
        with self.session(props) as s:
            repo = _create_or_adopt(s, props)
        return dyn.CreateResult(props["name"], {**props, "creationDate": repo.creation_date})

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        name = props.get("name") or id_
        with self.session(props) as s:
            found = s.lookup_repository(name)
        repo = found.record
        if repo is None or not found.live:
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


_ATTEMPTS = 2
"""Creates tried: a repository deleted between our look and our create is waited out once."""


def _create_or_adopt(s: Session, props: dict[str, Any]) -> lakefs_sdk.Repository:
    """Adopt the live repository of that name, or create it once lakeFS has forgotten any other."""
    name = props["name"]
    for _ in range(_ATTEMPTS):
        found = s.lookup_repository(name)
        if found.live and found.record is not None:
            return _adopt(s, props, found.record)
        if found.record is not None:  # deleted moments ago: lakeFS refuses the name until it forgets
            s.wait_until_forgotten(name)
        try:
            return _create(s, props)
        except errors.LakeFSConflictError:
            continue  # created, or deleted, by someone else since our look: look again
    raise errors.LakeFSConflictError(
        f"{s.where(f'creating repository {name!r}').describe()} failed: lakeFS kept answering that it "
        "exists (HTTP 409) while it does not exist as a usable repository; run `pulumi up` again"
    )


def _create(s: Session, props: dict[str, Any]) -> lakefs_sdk.Repository:
    name, namespace = props["name"], props["storageNamespace"]
    creation = lakefs_sdk.RepositoryCreation(
        name=name, storage_namespace=namespace, default_branch=props["defaultBranch"], storage_id=None
    )
    where = s.where(f"creating repository '{name}'")
    try:
        return s.call(where, s.repositories.create_repository, creation, idempotent=False)
    except errors.LakeFSValidationError as exc:
        if _NAMESPACE_IN_USE not in exc.detail:
            raise
        raise errors.StorageNamespaceInUseError(_namespace_in_use(where, props, exc.detail)) from None


def _namespace_in_use(where: errors.Where, props: dict[str, Any], detail: str) -> str:
    namespace = props["storageNamespace"]
    new_namespace = _setting(props, "storageNamespace", "the Repository's storage_namespace")
    adopt = _setting(props, "name", "the Repository's name")
    return (
        f"{where.describe()} failed: its storage namespace '{namespace}' already holds lakeFS data "
        f"(lakeFS said: {detail}). lakeFS never accepts a storage namespace twice, not even after the "
        f"repository that used it was deleted. Either set {new_namespace} to a location that holds no "
        f"lakeFS data (e.g. '{namespace.rstrip('/')}-2'); or, if a repository of this lakeFS still "
        f"uses '{namespace}', set {adopt} to that repository to adopt it; or, only if the data under "
        f"'{namespace}' is disposable, delete all of it (its _lakefs/ prefix included) and run "
        "`pulumi up` again"
    )


def _adopt(s: Session, props: dict[str, Any], repo: lakefs_sdk.Repository) -> lakefs_sdk.Repository:
    """Take over an existing repository only if it is the one we would have created."""
    name = props["name"]
    where = s.where("adopting existing repository", name).describe()
    for key, actual in (("storageNamespace", repo.storage_namespace), ("defaultBranch", repo.default_branch)):
        if props[key] != actual:
            name_setting = setting_name(props, "name")
            other = f"set `{name_setting}` to" if name_setting else "choose"
            raise errors.LakeFSConflictError(
                f"{where} refused: it exists with {key} '{actual}', not '{props[key]}'. To adopt it, "
                f"set {_setting(props, key, f'the Repository input {key}')} to '{actual}'; otherwise "
                f"{other} a repository name that does not exist yet"
            )
    pulumi.log.info(f"adopted existing lakeFS repository '{name}' ({repo.storage_namespace})")
    return repo


def _setting(props: dict[str, Any], key: str, fallback: str) -> str:
    """The stack setting `key` comes from, in backticks, or `fallback` when the resource was not told."""
    name = setting_name(props, key)
    return f"`{name}`" if name else fallback


def _immutable_changes(olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
    if not olds.get("name"):
        return []  # first create: nothing to compare with
    return [key for key in _IMMUTABLE if key in news and olds.get(key) != news.get(key)]


def _immutable_reason(key: str, olds: dict[str, Any], news: dict[str, Any]) -> str:
    reason = (
        f"{key} of lakeFS repository '{olds.get('name')}' cannot change ('{olds.get(key)}' -> "
        f"'{news.get(key)}'): lakeFS cannot rename or move a repository, and replacing it would delete "
        "it with its history."
    )
    setting = setting_name(news, key)
    if setting:
        return f"{reason} Set `{setting}` back to '{olds.get(key)}'"
    return (
        f"{reason} Keep the old value; to really move, declare a new Repository resource "
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
            "setting_names": dict(args.setting_names) if args.setting_names else None,
            "creation_date": None,
        }
        super().__init__(RepositoryProvider(), name, props, opts)
