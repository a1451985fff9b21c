"""In-memory lakeFS: repositories, commits, branches with staged changes, objects, tags, protection rules.

Mirrors lakeFS's behaviour as the swagger spec (v1.84.0) and the controller describe it: validation
rules, status codes and error bodies. The HTTP layer (`server.py`) only routes to these methods.

It also reproduces what a real lakeFS 1.84 was seen doing (README "Testing against a real lakeFS"):
- a deleted repository is still answered from lakeFS's repository cache for a while
  (`delete_lag_seconds`; 5 to 7 s on a real server): its record, creating one of the same name (409)
  and its protection rules, while its branches, tags and commits answer 404 at once;
- a storage namespace once used is never accepted again, even after its repository is deleted;
- protection rules come back in no fixed order (a Go map), and never in the order they were stored,
  so that a test relying on an order fails every time instead of now and then;
- no rules means an empty ETag, and an empty If-Match is refused (400): with no rules, the only
  possible write is an unconditional one.
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.secrecy import SecretText

BRANCH_ID = re.compile(r"^\w[-\w]*$", re.ASCII)
REPOSITORY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
STORAGE_NAMESPACE = re.compile(r"^(s3|gs|https?|mem|local|transient)://.*$")
# `graveler.ValidateTagID`: git-check-ref-format rules, "~" allowed.
_BAD_TAG = re.compile(r"(^@$)|(\.$)|(\.lock$)|(/$)|(\.\.)|(//)|(@\{)|[\^:?*\[\\\x00-\x20]")


class ApiError(Exception):
    """An error answer: HTTP status and the `message` of lakeFS's Error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _not_found(what: str) -> ApiError:
    return ApiError(404, f"{what}: not found")


@dataclass
class Commit:
    id: str
    parents: list[str]
    message: str
    tree: dict[str, str]
    creation_date: int
    metadata: dict[str, str] = field(default_factory=dict)
    _meta_range_id: str | None = field(default=None, repr=False, compare=False)

    @property
    def meta_range_id(self) -> str:
        """A content hash of the tree, computed once: trees are immutable after commit."""
        if self._meta_range_id is None:
            self._meta_range_id = hashlib.sha256(repr(sorted(self.tree.items())).encode()).hexdigest()
        return self._meta_range_id

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parents": self.parents,
            "committer": "admin",
            "message": self.message,
            "creation_date": self.creation_date,
            "meta_range_id": self.meta_range_id,
            "metadata": self.metadata,
            "generation": 0,
            "version": 1,
        }


@dataclass
class Branch:
    head: str
    staged: dict[str, str | None] = field(default_factory=dict)
    """path -> checksum, or None for a staged delete."""


@dataclass
class Repo:
    id: str
    storage_namespace: str
    default_branch: str
    creation_date: int
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, Branch] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    protection: list[str] = field(default_factory=list)
    protection_version: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "creation_date": self.creation_date,
            "default_branch": self.default_branch,
            "storage_namespace": self.storage_namespace,
            "read_only": False,
        }

    @property
    def protection_etag(self) -> str:
        """lakeFS's checksum of the stored rules: empty when there are none."""
        if not self.protection:
            return ""
        return hashlib.sha256(f"{self.id}:{self.protection_version}".encode()).hexdigest()

    def protected(self, branch: str) -> bool:
        return any(fnmatch.fnmatchcase(branch, pattern) for pattern in self.protection)


def _object_stats(repo: Repo, path: str, checksum: str, size: int | None = None) -> dict[str, Any]:
    """The `ObjectStats` of an object just written."""
    stats = {
        "path": path,
        "path_type": "object",
        "physical_address": f"{repo.storage_namespace}/data/{checksum}",
        "checksum": checksum,
        "mtime": int(time.time()),
    }
    return stats if size is None else {**stats, "size_bytes": size}


def paginate(items: list[Any], key: str, after: str, amount: int) -> tuple[list[Any], dict[str, Any]]:
    """lakeFS pagination over items sorted by `key`: `after` is exclusive, `amount` <= 1000."""
    amount = 100 if amount < 0 else min(amount, 1000)
    rest = [item for item in items if item[key] > after]
    page = rest[:amount]
    has_more = len(rest) > amount
    pagination = {
        "has_more": has_more,
        "next_offset": page[-1][key] if has_more and page else "",
        "results": len(page),
        "max_per_page": 1000,
    }
    return page, pagination


class FakeLakeFS:
    """The whole fake server state; every public method is one API operation (thread-safe).

    Args:
        access_key_id: Admin access key id, when `initialized`.
        secret_access_key: Admin secret access key, when `initialized`.
        initialized: False for a server fresh from install: every authenticated call answers 401
            until `POST /setup_lakefs` creates the admin user and its key.
        admin_username: Admin user id, when `initialized`.
        delete_lag_seconds: How long a deleted repository is still answered from the cache.
        seed: Seed of the arbitrary order of protection rules (None: a different one every run).
    """

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        initialized: bool = True,
        admin_username: str = "admin",
        delete_lag_seconds: float = 1.0,
        seed: int | None = None,
    ) -> None:
        self.credentials: tuple[str, str] | None = (
            (access_key_id, SecretText(secret_access_key)) if initialized else None
        )
        self.admin_username = admin_username
        self.admin_created = int(time.time())
        self.repos: dict[str, Repo] = {}
        self.blobs: dict[str, bytes] = {}
        """Object contents by checksum (what the blockstore would hold)."""
        self.delete_lag_seconds = delete_lag_seconds
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self._cached_after_delete: dict[str, tuple[Repo, float]] = {}
        """Deleted repositories lakeFS's cache still answers for, with when it stops (monotonic)."""
        self._used_namespaces: set[str] = set()
        self._order = random.Random(seed)

    # -- first-run setup and the current user ----------------------------------------------------
    def setup_state(self) -> dict[str, Any]:
        """`GET /setup_lakefs` (unauthenticated): the `SetupState` schema."""
        return {
            "state": "initialized" if self.credentials else "not_initialized",
            "comm_prefs_missing": False,
            "login_config": {
                "RBAC": "none",
                "login_url": "",
                "login_cookie_names": ["internal_auth_session"],
                "logout_url": "/logout",
            },
        }

    def setup(self, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /setup_lakefs` (unauthenticated): create the admin user and key, once.

        As the v1.84 controller: 400 for an empty username, 409 once initialized; without `key`
        lakeFS generates the pair. Answers 200 with `CredentialsWithSecret`.
        """
        username = body.get("username")
        if not isinstance(username, str) or not username:
            raise ApiError(400, "empty user display name")
        if self.credentials is not None:
            raise ApiError(409, "lakeFS already initialized")
        key = body.get("key")
        if key is None:
            key = {
                "access_key_id": "AKIAJ" + secrets.token_hex(7).upper(),
                "secret_access_key": secrets.token_urlsafe(30),
            }
        if not isinstance(key, dict) or not all(
            isinstance(key.get(k), str) and key[k] for k in ("access_key_id", "secret_access_key")
        ):
            raise ApiError(400, "request body has an error: doesn't match schema")
        self.credentials = (key["access_key_id"], SecretText(key["secret_access_key"]))
        self.admin_username, self.admin_created = username, int(time.time())
        return {**key, "creation_date": self.admin_created}

    def current_user(self) -> dict[str, Any]:
        """`GET /user`: the `CurrentUser` of the (only) admin key."""
        return {"user": {"id": self.admin_username, "creation_date": self.admin_created}}

    def load_committed(self, repo_name: str, branch: str, objects: int, prefix: str = "data/") -> str:
        """Test helper, not an API operation: commit `objects` objects to `branch` in one step.

        Builds the tree directly (no HTTP, no staging), so a benchmark can fill a repository with
        100,000 committed objects in well under a second. Returns the new head commit id.
        """
        repo = self.repo(repo_name)
        b = self.branch(repo, branch)
        tree = dict(repo.commits[b.head].tree)
        tree.update({f"{prefix}{i:08d}.parquet": f"{i:032x}" for i in range(objects)})
        commit = self._new_commit(repo, [b.head], f"load {objects} objects", tree)
        b.head = commit.id
        return commit.id

    # -- helpers ---------------------------------------------------------------------------------
    def repo(self, name: str) -> Repo:
        """A repository as lakeFS's key-value store has it (what branch, tag and commit reads use)."""
        if name not in self.repos:
            raise _not_found("repository not found")
        return self.repos[name]

    def cached_repo(self, name: str) -> Repo:
        """A repository as lakeFS's repository cache has it: one deleted moments ago included."""
        if name in self.repos:
            return self.repos[name]
        repo, until = self._cached_after_delete.get(name, (None, 0.0))
        if repo is None or time.monotonic() >= until:
            raise _not_found("repository not found")
        return repo

    def _new_commit(self, repo: Repo, parents: list[str], message: str, tree: dict[str, str]) -> Commit:
        seed = f"{repo.id}:{next(self._ids)}:{message}:{parents}"
        commit = Commit(hashlib.sha256(seed.encode()).hexdigest(), parents, message, tree, int(time.time()))
        repo.commits[commit.id] = commit
        return commit

    def resolve(self, repo: Repo, ref: str) -> Commit:
        """Branch, tag or (full) commit id to its commit; 404 when none."""
        if ref in repo.branches:
            return repo.commits[repo.branches[ref].head]
        if ref in repo.tags:
            return repo.commits[repo.tags[ref]]
        if ref in repo.commits:
            return repo.commits[ref]
        raise _not_found("ref not found")

    def branch(self, repo: Repo, name: str) -> Branch:
        if name not in repo.branches:
            raise _not_found("branch not found")
        return repo.branches[name]

    # -- repositories ----------------------------------------------------------------------------
    def create_repository(self, body: dict[str, Any]) -> dict[str, Any]:
        name, namespace = body.get("name", ""), body.get("storage_namespace", "")
        default = body.get("default_branch") or "main"
        if not REPOSITORY_ID.match(name):
            raise ApiError(400, "argument name: invalid value: validation error")
        if not STORAGE_NAMESPACE.match(namespace):
            raise ApiError(400, "argument storage_namespace: invalid value: validation error")
        if not BRANCH_ID.match(default):
            raise ApiError(400, "argument default_branch: invalid value: validation error")
        # As the controller: the (cached) name check first, then the namespace's `_lakefs/dummy`.
        if self._exists_in_cache(name):
            raise ApiError(409, "error creating repository: not unique")
        if namespace in self._used_namespaces:
            raise ApiError(
                400,
                f"failed to create repository: found lakeFS objects in the storage namespace({namespace}) "
                "key(_lakefs/dummy): storage namespace already in use",
            )
        repo = Repo(name, namespace, default, int(time.time()))
        initial = self._new_commit(repo, [], "Repository created", {})
        repo.branches[default] = Branch(initial.id)
        self.repos[name] = repo
        self._used_namespaces.add(namespace)
        self._cached_after_delete.pop(name, None)
        return repo.to_json()

    def get_repository(self, name: str) -> dict[str, Any]:
        return self.cached_repo(name).to_json()

    def delete_repository(self, name: str) -> None:
        # lakeFS reads the record uncached here: a second delete answers 404 at once.
        repo = self.repo(name)
        del self.repos[name]
        self._cached_after_delete[name] = (repo, time.monotonic() + self.delete_lag_seconds)

    def _exists_in_cache(self, name: str) -> bool:
        try:
            self.cached_repo(name)
        except ApiError:
            return False
        return True

    def list_repositories(self, after: str, amount: int) -> dict[str, Any]:
        items = [r.to_json() for r in sorted(self.repos.values(), key=lambda r: r.id)]
        page, pagination = paginate(items, "id", after, amount)
        return {"pagination": pagination, "results": page}

    # -- branches --------------------------------------------------------------------------------
    def create_branch(self, repo_name: str, body: dict[str, Any]) -> str:
        repo = self.repo(repo_name)
        name, source = body.get("name", ""), body.get("source", "")
        if not BRANCH_ID.match(name):
            raise ApiError(400, "argument branch: invalid value: validation error")
        commit = self.resolve(repo, source)
        if name in repo.branches:
            raise ApiError(409, "branch already exists: not unique")
        repo.branches[name] = Branch(commit.id)
        return commit.id

    def delete_branch(self, repo_name: str, name: str) -> None:
        repo = self.repo(repo_name)
        self.branch(repo, name)
        if name == repo.default_branch:
            raise ApiError(403, "cannot delete default branch: operation not permitted")
        # lakeFS v1.84 checks only the default branch (and read-only repositories) here; protection
        # rules there block staging writes and commits, not deletes (`pkg/api/controller.go`).
        del repo.branches[name]

    def list_refs(self, repo_name: str, kind: str, after: str, amount: int) -> dict[str, Any]:
        repo = self.repo(repo_name)
        refs = {n: b.head for n, b in repo.branches.items()} if kind == "branches" else dict(repo.tags)
        items = [{"id": n, "commit_id": c} for n, c in sorted(refs.items())]
        page, pagination = paginate(items, "id", after, amount)
        return {"pagination": pagination, "results": page}

    def stage(self, repo_name: str, branch: str, path: str, content: bytes = b"x") -> dict[str, Any]:
        """Upload an object to a branch (uncommitted until `commit`)."""
        repo = self.repo(repo_name)
        staged = self.branch(repo, branch)
        if repo.protected(branch):
            raise ApiError(403, "cannot write to protected branch")
        checksum = hashlib.md5(content).hexdigest()
        staged.staged[path] = checksum
        self.blobs[checksum] = content
        return _object_stats(repo, path, checksum, len(content))

    def copy_object(
        self, repo_name: str, branch: str, dest_path: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """`POST .../objects/copy`: stage at `dest_path` the object `src_path` has at `src_ref`."""
        repo = self.repo(repo_name)
        staged = self.branch(repo, branch)
        if repo.protected(branch):
            raise ApiError(403, "cannot write to protected branch")
        source_ref, source_path = body.get("src_ref") or branch, body.get("src_path", "")
        pending = repo.branches[source_ref].staged if source_ref in repo.branches else {}
        if source_path in pending:
            checksum = pending[source_path]
        else:
            checksum = self.resolve(repo, source_ref).tree.get(source_path)
        if checksum is None:
            raise _not_found("object not found")
        staged.staged[dest_path] = checksum
        return _object_stats(repo, dest_path, checksum)

    def get_object(self, repo_name: str, ref: str, path: str) -> bytes:
        """`GET .../refs/{ref}/objects?path=`: an object's content; a branch ref sees its staged changes."""
        repo = self.repo(repo_name)
        checksum = self.resolve(repo, ref).tree.get(path)
        if ref in repo.branches and path in repo.branches[ref].staged:
            checksum = repo.branches[ref].staged[path]
        if checksum is None or checksum not in self.blobs:
            # Objects loaded by `load_committed` have no content: they read as not found, too.
            raise _not_found("object not found")
        return self.blobs[checksum]

    def uncommitted(self, repo_name: str, branch: str, after: str, amount: int) -> dict[str, Any]:
        repo = self.repo(repo_name)
        b = self.branch(repo, branch)
        committed = repo.commits[b.head].tree
        items = []
        for path, checksum in sorted(b.staged.items()):
            kind = "removed" if checksum is None else ("changed" if path in committed else "added")
            items.append({"type": kind, "path": path, "path_type": "object"})
        page, pagination = paginate(items, "path", after, amount)
        return {"pagination": pagination, "results": page}

    def commit(self, repo_name: str, branch: str, body: dict[str, Any]) -> dict[str, Any]:
        repo = self.repo(repo_name)
        b = self.branch(repo, branch)
        if repo.protected(branch):
            raise ApiError(403, "cannot write to protected branch")
        if not body.get("message"):
            raise ApiError(400, "argument message: required value: validation error")
        if not b.staged and not body.get("allow_empty"):
            raise ApiError(400, "commit: no changes")
        tree = dict(repo.commits[b.head].tree)
        for path, checksum in b.staged.items():
            if checksum is None:
                tree.pop(path, None)
            else:
                tree[path] = checksum
        commit = self._new_commit(repo, [b.head], body["message"], tree)
        commit.metadata = dict(body.get("metadata") or {})
        b.head, b.staged = commit.id, {}
        return commit.to_json()

    # -- commits and refs ------------------------------------------------------------------------
    def get_commit(self, repo_name: str, commit_id: str) -> dict[str, Any]:
        return self.resolve(self.repo(repo_name), commit_id).to_json()

    def log_commits(self, repo_name: str, ref: str, after: str, amount: int) -> dict[str, Any]:
        repo = self.repo(repo_name)
        commit: Commit | None = self.resolve(repo, ref)
        amount = 100 if amount < 0 else min(amount, 1000)
        chain: list[Commit] = []
        skipping = bool(after)
        # Walk only as far as the page needs (one past it, for has_more), as lakeFS does.
        while commit is not None and len(chain) <= amount:
            if not skipping:
                chain.append(commit)
            skipping = skipping and commit.id != after
            commit = repo.commits[commit.parents[0]] if commit.parents else None
        has_more = len(chain) > amount
        page = [c.to_json() for c in chain[:amount]]
        pagination = {
            "has_more": has_more,
            "next_offset": page[-1]["id"] if has_more else "",
            "results": len(page),
            "max_per_page": 1000,
        }
        return {"pagination": pagination, "results": page}

    def _ancestors(self, repo: Repo, commit_id: str) -> list[str]:
        order, queue = [], [commit_id]
        while queue:
            current = queue.pop(0)
            if current not in order:
                order.append(current)
                queue.extend(repo.commits[current].parents)
        return order

    def diff_refs(self, repo_name: str, left: str, right: str, kind: str, after: str, amount: int) -> Any:
        repo = self.repo(repo_name)
        left_commit, right_commit = self.resolve(repo, left), self.resolve(repo, right)
        base = left_commit
        if kind != "two_dot":  # three_dot: compare right against the merge base
            left_line = set(self._ancestors(repo, left_commit.id))
            merge_base = next((c for c in self._ancestors(repo, right_commit.id) if c in left_line), None)
            base = repo.commits[merge_base] if merge_base else Commit("", [], "", {}, 0)
        items = []
        for path in sorted(set(base.tree) | set(right_commit.tree)):
            old, new = base.tree.get(path), right_commit.tree.get(path)
            if old == new:
                continue
            kind_ = "added" if old is None else ("removed" if new is None else "changed")
            items.append({"type": kind_, "path": path, "path_type": "object"})
        page, pagination = paginate(items, "path", after, amount)
        return {"pagination": pagination, "results": page}

    # -- tags ------------------------------------------------------------------------------------
    def create_tag(self, repo_name: str, body: dict[str, Any]) -> dict[str, Any]:
        repo = self.repo(repo_name)
        tag, ref = body.get("id", ""), body.get("ref", "")
        if not tag or _BAD_TAG.search(tag):
            raise ApiError(400, "argument id: invalid value: validation error")
        commit = self.resolve(repo, ref)
        if tag in repo.tags and not body.get("force"):
            raise ApiError(409, "tag already exists: not unique")
        repo.tags[tag] = commit.id
        return {"id": tag, "commit_id": commit.id}

    def get_tag(self, repo_name: str, tag: str) -> dict[str, Any]:
        repo = self.repo(repo_name)
        if tag not in repo.tags:
            raise _not_found("tag not found")
        return {"id": tag, "commit_id": repo.tags[tag]}

    def delete_tag(self, repo_name: str, tag: str) -> None:
        repo = self.repo(repo_name)
        if tag not in repo.tags:
            raise _not_found("tag not found")
        del repo.tags[tag]

    # -- branch protection -----------------------------------------------------------------------
    def get_protection(self, repo_name: str) -> tuple[list[dict[str, str]], str]:
        repo = self.cached_repo(repo_name)
        return [{"pattern": p} for p in self._arbitrary_order(repo.protection)], repo.protection_etag

    def set_protection(self, repo_name: str, rules: list[dict[str, Any]], if_match: str | None) -> None:
        """`PUT .../settings/branch_protection`; `if_match` None when the header is absent."""
        if if_match == "":
            raise ApiError(
                400,
                "Invalid format for parameter If-Match: parameter 'If-Match' is empty, can't bind its value",
            )
        repo = self.cached_repo(repo_name)
        # lakeFS compares with the checksum of what is stored; nothing stored never matches.
        if if_match is not None and if_match != repo.protection_etag:
            raise ApiError(412, "precondition failed: branch protection rules changed")
        patterns = [rule.get("pattern", "") for rule in rules]
        if any(not p for p in patterns):
            raise ApiError(400, "argument pattern: required value: validation error")
        repo.protection = list(dict.fromkeys(patterns))  # a map in lakeFS: one rule per pattern
        repo.protection_version += 1

    def _arbitrary_order(self, patterns: list[str]) -> list[str]:
        """The patterns shuffled, and never in their stored order when there are two or more."""
        shuffled = list(patterns)
        self._order.shuffle(shuffled)
        if len(set(patterns)) > 1 and shuffled == patterns:
            shuffled.reverse()
        return shuffled
