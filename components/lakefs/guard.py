"""`BranchDeleteGuard`: refuses a branch's delete before anything that depends on the branch moves.

The engine deletes dependents before what they depend on, and a failed delete stops the rest. A
`Branch` is deleted last, after everything that uses it, so on its own its refusal (uncommitted
changes, lakeFS not answering) came after the rest of the stack was already gone: seen on a real
cluster, a refused `pulumi destroy` first deleted every Kubernetes object of the sandbox.

The guard turns that around. Declared last, depending on every other resource of the stack, it is
the first thing the engine deletes; its delete runs the branch delete's read-only safety checks
(`branch.inspect_for_delete`) with the same messages and the same opt-ins, so a refused destroy
deletes nothing at all. It also takes the branch's `sourceCommit` as an input: when the branch is
replaced (a newer snapshot; delete-before-replace, the lakeFS name being fixed), the engine replaces
every dependent whose input comes from the branch and deletes those first, the guard first of all, so
a replacement that would be refused is refused before anything else moves.

Creating, reading and updating the guard touch nothing: it exists only for its delete. The branch's
own delete still checks again, right before deleting (a pod may have written in between).

Usage (from a component, after everything else is declared)::

    BranchDeleteGuard(f"{name}-delete-guard", BranchDeleteGuardArgs(
        connection=conn, repository=branch.repository, branch=branch.branch,
        source_commit=branch.source_commit, discard_uncommitted=False),
        pulumi.ResourceOptions(parent=self, depends_on=[...every other resource...]))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi.dynamic as dyn

from components.lakefs.branch import branch_identity, inspect_for_delete
from components.lakefs.connection import LakeFSConnection, LakeFSResource
from components.lakefs.opt_in import discard_uncommitted_opted_in, forget_unreachable_opted_in
from components.lakefs.provider import (
    BRANCH_RULE,
    REPOSITORY_RULE,
    LakeFSProvider,
    Rule,
    changed_keys,
    is_str,
    resource_id,
)


@dataclass(frozen=True)
class BranchDeleteGuardArgs:
    """Inputs of a `BranchDeleteGuard`.

    Args:
        connection: Where lakeFS is and how to log in.
        repository: Repository of the guarded branch.
        branch: The guarded branch.
        source_commit: The branch's `source_commit` output: ties the guard to this branch instance.
        discard_uncommitted: The branch's own flag: uncommitted changes do not refuse the delete.
    """

    connection: LakeFSConnection
    repository: pulumi.Input[str]
    branch: pulumi.Input[str]
    source_commit: pulumi.Input[str]
    discard_uncommitted: pulumi.Input[bool] = False


class BranchDeleteGuardProvider(LakeFSProvider):
    """Offline create/read/update; delete runs the guarded branch's read-only delete checks."""

    rules: ClassVar[tuple[Rule, ...]] = (
        REPOSITORY_RULE,
        BRANCH_RULE,
        ("sourceCommit", is_str, "must be the guarded branch's source commit"),
        ("discardUncommitted", lambda v: isinstance(v, bool), "must be true or false"),
    )
    defaults: ClassVar[dict[str, Any]] = {"discardUncommitted": False}
    replace_keys: ClassVar[tuple[str, ...]] = ("repository", "branch", "sourceCommit")

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        changed = changed_keys(olds, news)
        replaces = [key for key in self.replace_keys if key in changed]
        # Another branch instance: the old guard's check must pass before anything else is replaced.
        return dyn.DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        return dyn.CreateResult(resource_id(props["repository"], props["branch"]), dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        # Refresh must never drop the guard: it has nothing to read, and no way to be "gone".
        return dyn.ReadResult(id_, dict(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        return dyn.UpdateResult(dict(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        repo, branch = branch_identity(id_, props)
        forget, discard = forget_unreachable_opted_in(), discard_uncommitted_opted_in()
        with self.session(props) as s:
            head = inspect_for_delete(s, repo, branch, props, forget=forget, discard=discard, deferred=True)
        if head is not None:
            pulumi.log.info(
                f"delete guard: nothing refuses deleting lakeFS branch '{branch}' in repository "
                f"'{repo}' (head {head}); what depends on it goes first, the branch itself last"
            )


class BranchDeleteGuard(LakeFSResource, module="lakefs", name="BranchDeleteGuard"):
    """Stands in front of a branch's delete; see the module docstring."""

    repository: pulumi.Output[str]
    """Repository of the guarded branch."""
    branch: pulumi.Output[str]
    """The guarded branch."""
    source_commit: pulumi.Output[str]
    """The guarded branch's source commit."""

    def __init__(
        self, name: str, args: BranchDeleteGuardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {
            "connection": args.connection.to_props(),
            "repository": args.repository,
            "branch": args.branch,
            "source_commit": args.source_commit,
            "discard_uncommitted": args.discard_uncommitted,
        }
        super().__init__(BranchDeleteGuardProvider(), name, props, opts)
