"""lakeFS as Pulumi resources: dynamic providers on `lakefs-sdk`.

Resources (type tokens `pulumi-python:dynamic/lakefs:<Type>`), each `(name, args, opts)`:

- `Repository(name, RepositoryArgs(connection, name, storage_namespace, default_branch="main",
  force_destroy=False, setting_names=None))`: outputs `name`, `storage_namespace`, `default_branch`,
  `creation_date`.
- `Branch(name, BranchArgs(connection, repository, branch, source_ref, discard_uncommitted=False,
  archive=True, require_protected_default=False, tier_stack=None))`: outputs `source_commit` (pinned
  snapshot), `head_commit` (refreshed on read).
- `BranchProtection(name, BranchProtectionArgs(connection, repository, patterns))`: output `patterns`.
- `BranchDeleteGuard(name, BranchDeleteGuardArgs(connection, repository, branch, source_commit,
  discard_uncommitted=False))`: declared last with `depends_on` every other resource, so its delete
  runs a branch's read-only delete checks before anything else of the stack is deleted or replaced.
- `Tag(name, TagArgs(connection, repository, tag, ref))`: output `commit_id`.
- `LakeFSSetup(name, LakeFSSetupArgs(endpoint, access_key_id, secret_access_key, admin_username="admin",
  wait_seconds=300, setting_names=None))`: first-run setup or verified adoption; outputs `user_id`,
  `adopted`, and the attribute `admin_connection` for the resources above.

`setting_names` maps input names to the stack settings they come from, so that refusals name those.

All take a `LakeFSConnection(endpoint, access_key_id, secret_access_key)`; the secret stays a Pulumi
secret. Failures raise subclasses of `errors.LakeFSError`.

Deleting a `Branch` while lakeFS does not answer fails, unless the environment of `pulumi destroy`
sets `FORGET_UNREACHABLE_ENV` (PIPELINE_SANDBOX_FORGET_UNREACHABLE_LAKEFS=1; see `forget`); deleting
one with uncommitted changes fails unless its `discard_uncommitted` is set or the environment sets
`DISCARD_UNCOMMITTED_ENV` (PIPELINE_SANDBOX_DISCARD_UNCOMMITTED=1; see `opt_in`).
"""

from components.lakefs.branch import Branch, BranchArgs, BranchProvider
from components.lakefs.connection import LakeFSConnection
from components.lakefs.errors import LakeFSError
from components.lakefs.guard import BranchDeleteGuard, BranchDeleteGuardArgs, BranchDeleteGuardProvider
from components.lakefs.opt_in import DISCARD_UNCOMMITTED_ENV, FORGET_UNREACHABLE_ENV
from components.lakefs.protection import BranchProtection, BranchProtectionArgs, BranchProtectionProvider
from components.lakefs.repository import Repository, RepositoryArgs, RepositoryProvider
from components.lakefs.setup import LakeFSSetup, LakeFSSetupArgs, LakeFSSetupProvider
from components.lakefs.tag import Tag, TagArgs, TagProvider

__all__ = [
    "DISCARD_UNCOMMITTED_ENV",
    "FORGET_UNREACHABLE_ENV",
    "Branch",
    "BranchArgs",
    "BranchDeleteGuard",
    "BranchDeleteGuardArgs",
    "BranchDeleteGuardProvider",
    "BranchProtection",
    "BranchProtectionArgs",
    "BranchProtectionProvider",
    "BranchProvider",
    "LakeFSConnection",
    "LakeFSError",
    "LakeFSSetup",
    "LakeFSSetupArgs",
    "LakeFSSetupProvider",
    "Repository",
    "RepositoryArgs",
    "RepositoryProvider",
    "Tag",
    "TagArgs",
    "TagProvider",
]
