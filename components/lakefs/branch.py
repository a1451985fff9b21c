"""`Branch`: a lakeFS branch pinned to a snapshot of a source ref, with a safe delete.

Usage (from a component)::

    branch = Branch(f"{name}-branch", BranchArgs(
        connection=conn, repository="lake", branch="sbx-feature-x", source_ref="main",
        discard_uncommitted=False, archive=True), pulumi.ResourceOptions(parent=self))
    branch.source_commit  # the commit the branch was created at
    branch.head_commit    # the branch head, refreshed by `pulumi refresh`

Create resolves `source_ref` (branch, tag or commit) to a commit and branches from that commit, so the
sandbox sees a fixed snapshot. An existing branch is adopted only when it sits at that commit with no
uncommitted changes. Changing repository, branch or source_ref replaces the branch (old one deleted
first, through the safe delete). With `require_protected_default`, create first checks, read-only,
that the repository's default branch is protected (`tier_guard`). A create costs four requests
whatever the data size: repository, protection rules, the source's commit, the new branch (two
without the check).

Safe delete: uncommitted changes stop the delete (with a count, a few paths and what to do) unless
`discard_uncommitted`; unless `archive` is false, the head is tagged `archive-<branch>-<UTC time>`
first so committed work stays reachable. lakeFS v1.x accepts "/" in tag ids, but older servers
validated tag ids like branch ids (no "/"), and a "/" must travel %2F-encoded in URL paths, which some
proxies rewrite; a dash-separated id is valid everywhere.

Already gone: a branch, or its whole repository, that lakeFS confirms is gone counts as deleted (an
info log says which). A lakeFS that does not answer at all is not "gone": delete fails with what to
do, unless the operator opts in to forgetting the branch (`forget.FORGET_UNREACHABLE_ENV`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import lakefs_sdk
import pulumi
import pulumi.dynamic as dyn

from components.lakefs import errors
from components.lakefs.client import Session, Uncommitted
from components.lakefs.connection import LakeFSConnection, LakeFSResource
from components.lakefs.forget import forget_or_refuse
from components.lakefs.opt_in import (
    DISCARD_UNCOMMITTED_ENV,
    discard_uncommitted_opted_in,
    forget_unreachable_opted_in,
)
from components.lakefs.provider import (
    BRANCH_RULE,
    REPOSITORY_RULE,
    LakeFSProvider,
    Rule,
    is_str,
    resource_id,
)
from components.lakefs.tier_guard import refuse_unless_default_protected, tier_credentials_hint

ARCHIVE_PREFIX = "archive-"


def archive_tag_id(branch: str, now: datetime | None = None) -> str:
    """Tag id that archives `branch`'s head, e.g. "archive-sbx-x-20261125T111500Z"."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{ARCHIVE_PREFIX}{branch}-{stamp}"


@dataclass(frozen=True)
class BranchArgs:
    """Inputs of a `Branch`.

    Args:
        connection: Where lakeFS is and how to log in.
        repository: Repository id.
        branch: Branch id (letters, digits, "_" and "-", not starting with "-").
        source_ref: Branch, tag or commit to branch from; resolved once, at create.
        discard_uncommitted: Let delete drop uncommitted changes instead of failing.
        archive: Tag the head before delete so committed work stays reachable.
        require_protected_default: Refuse to create the branch unless the repository's default branch
            is protected (checked read-only at create).
        tier_stack: The stack the repository and key pair come from; named when lakeFS rejects the
            key pair or the default branch is not protected.
    """

    connection: LakeFSConnection
    repository: pulumi.Input[str]
    branch: pulumi.Input[str]
    source_ref: pulumi.Input[str]
    discard_uncommitted: pulumi.Input[bool] = False
    archive: pulumi.Input[bool] = True
    require_protected_default: pulumi.Input[bool] = False
    tier_stack: pulumi.Input[str] | None = None


class BranchProvider(LakeFSProvider):
    """CRUD of one lakeFS branch; see the module docstring for the semantics."""

    rules: ClassVar[tuple[Rule, ...]] = (
        REPOSITORY_RULE,
        BRANCH_RULE,
        ("sourceRef", is_str, "must be a branch, tag or commit id"),
        ("discardUncommitted", lambda v: isinstance(v, bool), "must be true or false"),
        ("archive", lambda v: isinstance(v, bool), "must be true or false"),
        ("requireProtectedDefault", lambda v: isinstance(v, bool), "must be true or false"),
        ("tierStack", lambda v: v is None or is_str(v), "must be a stack name or absent"),
    )
    defaults: ClassVar[dict[str, Any]] = {
        "discardUncommitted": False,
        "archive": True,
        "requireProtectedDefault": False,
    }
    replace_keys: ClassVar[tuple[str, ...]] = ("repository", "branch", "sourceRef")

    def credentials_hint(self, props: Mapping[str, Any]) -> str | None:
        return tier_credentials_hint(props.get("tierStack"))

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        repo, branch = props["repository"], props["branch"]
        with self.session(props) as s:
            if props.get("requireProtectedDefault", False):
                refuse_unless_default_protected(s, repo, branch, props.get("tierStack"))
            commit = s.resolve_commit(repo, props["sourceRef"])
            try:
                s.call(
                    s.where("creating branch", repo, branch),
                    s.branches.create_branch,
                    repo,
                    lakefs_sdk.BranchCreation(name=branch, source=commit, hidden=None),
                    idempotent=False,
                )
            except errors.LakeFSConflictError:  # lakeFS answers 409 for a branch that exists
                _adopt(s, repo, branch, commit)
        outs = {**props, "sourceCommit": commit, "headCommit": commit}
        return dyn.CreateResult(resource_id(repo, branch), outs)

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        repo, branch = branch_identity(id_, props)
        with self.session(props) as s:
            head = s.branch_head(repo, branch)
        if head is None:
            return dyn.ReadResult(None, {})
        return dyn.ReadResult(id_, {**props, "repository": repo, "branch": branch, "headCommit": head})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        # Only non-replacing inputs change here (flags, connection); refresh the head on the way.
        with self.session(news) as s:
            head = s.branch_head(news["repository"], news["branch"])
        if head is None:
            raise errors.LakeFSNotFoundError(
                f"branch '{news['branch']}' in repository '{news['repository']}' is gone; "
                "run `pulumi refresh` to drop it from the state, then `pulumi up` to recreate it"
            )
        return dyn.UpdateResult({**news, "sourceCommit": olds.get("sourceCommit"), "headCommit": head})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        repo, branch = branch_identity(id_, props)
        # Before any call, so that a mistyped opt-in fails even while lakeFS answers.
        forget, discard = forget_unreachable_opted_in(), discard_uncommitted_opted_in()
        with self.session(props) as s:
            safe_delete(s, repo, branch, props, forget=forget, discard=discard)


def safe_delete(
    s: Session, repo: str, branch: str, props: dict[str, Any], *, forget: bool, discard: bool
) -> None:
    """Deletes a branch the safe way: the checks of `inspect_for_delete`, the archive tag, the delete.

    The one delete path of every sandbox branch: the provider's delete, and `pipeline-sandbox gc`
    reclaiming a branch no stack owns any more (which passes False for both opt-ins).

    Args:
        s: An open session.
        repo: Repository of the branch.
        branch: Branch to delete.
        props: The branch's state (`archive`, `discardUncommitted`, last known head).
        forget: `FORGET_UNREACHABLE_ENV` opts in.
        discard: `DISCARD_UNCOMMITTED_ENV` opts in.
    """
    head = inspect_for_delete(s, repo, branch, props, forget=forget, discard=discard)
    if head is None:
        return
    if props.get("archive", True):
        _archive(s, repo, branch, head)
    # Not found here means deleted concurrently (or by our own retried DELETE): goal met.
    with contextlib.suppress(errors.LakeFSNotFoundError):
        s.call(
            s.where("deleting branch", repo, branch),
            s.branches.delete_branch,
            repo,
            branch,
            idempotent=True,
        )


def inspect_for_delete(
    s: Session,
    repo: str,
    branch: str,
    props: dict[str, Any],
    *,
    forget: bool,
    discard: bool,
    deferred: bool = False,
) -> str | None:
    """The read-only safety checks of a branch delete; raises the refusal the delete would raise.

    Returns the head to archive and delete, or None when there is nothing to delete (the branch or
    its repository is confirmed gone, or lakeFS does not answer and `forget` opts in).

    Args:
        s: An open session.
        repo: Repository of the branch.
        branch: Branch about to be deleted.
        props: The branch's state (flags, last known head).
        forget: `FORGET_UNREACHABLE_ENV` opts in.
        discard: `DISCARD_UNCOMMITTED_ENV` opts in (the state's `discardUncommitted` counts too).
        deferred: Checking ahead of the branch's own delete, which does the logging that matters.
    """
    try:
        found = s.lookup_branch(repo, branch)
    except errors.LakeFSUnreachableError as exc:
        endpoint = s.settings.display_endpoint
        forget_or_refuse(endpoint, repo, branch, props, exc, opted_in=forget, deferred=deferred)
        return None
    if found.head is None:
        pulumi.log.info(_gone_message(s, repo, branch, found.missing))
        return None
    pending = s.uncommitted(repo, branch)
    if pending.count:
        if not (discard or props.get("discardUncommitted", False)):
            raise _uncommitted_refusal(s, repo, branch, pending)
        if not deferred:
            pulumi.log.warn(
                f"discarding {_count(pending)} uncommitted change(s) on lakeFS branch '{branch}' in "
                f"repository '{repo}' (e.g. {', '.join(pending.sample)}), as opted in"
            )
    return found.head


def branch_identity(id_: str, props: dict[str, Any]) -> tuple[str, str]:
    """(repository, branch) from the state, or from the id on `Branch.get`/import."""
    if props.get("repository") and props.get("branch"):
        return props["repository"], props["branch"]
    repo, _, branch = id_.partition("/")
    return repo, branch


def _gone_message(s: Session, repo: str, branch: str, missing: str | None) -> str:
    endpoint = s.settings.display_endpoint
    if missing == "repository":
        return (
            f"lakeFS repository '{repo}' no longer exists at {endpoint}, so neither does its branch "
            f"'{branch}': nothing to delete"
        )
    return f"lakeFS branch '{branch}' in repository '{repo}' at {endpoint} is already gone: nothing to delete"


def _adopt(s: Session, repo: str, branch: str, commit: str) -> None:
    """Take over an existing branch only if it is exactly what create would have made."""
    head = s.branch_head(repo, branch)
    where = s.where("adopting existing branch", repo, branch).describe()
    if head != commit:
        raise errors.LakeFSConflictError(
            f"{where} refused: branch '{branch}' already exists at commit {head}, not at the source "
            f"commit {commit}; delete or rename that branch, or choose another branch name"
        )
    pending = s.uncommitted(repo, branch, limit=1)
    if pending.count:
        raise errors.LakeFSConflictError(
            f"{where} refused: branch '{branch}' already exists and has uncommitted changes "
            f"(e.g. {', '.join(pending.sample)}); commit or reset them, or choose another branch name"
        )
    pulumi.log.info(f"adopted existing lakeFS branch '{branch}' in repository '{repo}' at {commit}")


def _count(pending: Uncommitted) -> str:
    return f"more than {pending.count}" if pending.capped else str(pending.count)


def _uncommitted_refusal(s: Session, repo: str, branch: str, pending: Uncommitted) -> errors.LakeFSError:
    return errors.UncommittedChangesError(
        f"refusing to delete lakeFS branch '{branch}' in repository '{repo}' at "
        f"{s.settings.display_endpoint}: it has {_count(pending)} uncommitted change(s), e.g. "
        f"{', '.join(pending.sample)}. Nothing was deleted. Commit them (e.g. `lakectl commit "
        f"lakefs://{repo}/{branch} -m ...`) and run the command again; or, to drop them, run it again "
        f"with {DISCARD_UNCOMMITTED_ENV}=1 (e.g. `{DISCARD_UNCOMMITTED_ENV}=1 pulumi destroy`), or set "
        "`sandbox:discardUncommitted` to true and run `pulumi up` first"
    )


def _archive(s: Session, repo: str, branch: str, head: str) -> str:
    tag = archive_tag_id(branch)
    try:
        s.call(
            s.where("creating archive tag", repo, tag),
            s.tags.create_tag,
            repo,
            lakefs_sdk.TagCreation(id=tag, ref=head),
            idempotent=False,
        )
    except errors.LakeFSConflictError:
        # Same branch archived twice within a second (e.g. a retried delete): fine if same commit.
        existing = s.call(s.where("reading tag", repo, tag), s.tags.get_tag, repo, tag, idempotent=True)
        if existing.commit_id != head:
            raise
    pulumi.log.info(
        f"archived lakeFS branch '{branch}' in repository '{repo}': head {head} is tagged '{tag}'"
    )
    return tag


class Branch(LakeFSResource, module="lakefs", name="Branch"):
    """A lakeFS branch created from a pinned snapshot of a source ref."""

    repository: pulumi.Output[str]
    """Repository id."""
    branch: pulumi.Output[str]
    """Branch id."""
    source_ref: pulumi.Output[str]
    """The ref the branch was created from, as given."""
    source_commit: pulumi.Output[str]
    """Commit `source_ref` resolved to at create: the pinned snapshot."""
    head_commit: pulumi.Output[str]
    """Current head of the branch (updated by refresh)."""

    def __init__(self, name: str, args: BranchArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "connection": args.connection.to_props(),
            "repository": args.repository,
            "branch": args.branch,
            "source_ref": args.source_ref,
            "discard_uncommitted": args.discard_uncommitted,
            "archive": args.archive,
            "require_protected_default": args.require_protected_default,
            "tier_stack": args.tier_stack,
            "source_commit": None,
            "head_commit": None,
        }
        super().__init__(BranchProvider(), name, props, opts)
