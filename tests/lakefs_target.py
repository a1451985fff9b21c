"""The lakeFS a test or benchmark runs against: the in-process fake, or a real one from LAKEFS_*.

`LakeFSTarget.from_environment()` reads LAKEFS_ENDPOINT, LAKEFS_ACCESS_KEY_ID and
LAKEFS_SECRET_ACCESS_KEY (and LAKEFS_STORAGE_NAMESPACE_PREFIX, default "local://pulumi-contract",
which a quickstart lakeFS accepts); without them there is no real lakeFS and callers use the fake.
Helpers act through lakeFS's real API, so they work on both; repositories made with `new_repo` are
deleted by `cleanup`. The secret access key is a `SecretText` and left out of the repr.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lakefs_sdk

from components.lakefs.client import FORGET_WAIT_SECONDS, ConnectionSettings, Session
from tests.lakefs_fake import FakeLakeFSServer
from tests.secrecy import SecretText

REAL_LAKEFS_VARIABLES = ("LAKEFS_ENDPOINT", "LAKEFS_ACCESS_KEY_ID", "LAKEFS_SECRET_ACCESS_KEY")
UPLOAD_WORKERS = 8


def real_lakefs_configured() -> bool:
    """Whether the environment names a real lakeFS to run against."""
    return bool(os.environ.get("LAKEFS_ENDPOINT"))


@dataclass
class LakeFSTarget:
    """The lakeFS under test, and helpers that act on it through the real API."""

    endpoint: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    namespace_prefix: str
    tmp: Path
    fake: FakeLakeFSServer | None = None
    timeout_seconds: float = 10.0
    created: list[str] = field(default_factory=list)

    @classmethod
    def from_environment(cls, tmp: Path) -> LakeFSTarget:
        """The real lakeFS the LAKEFS_* variables name (see `real_lakefs_configured`)."""
        return cls(
            endpoint=os.environ["LAKEFS_ENDPOINT"],
            access_key_id=os.environ["LAKEFS_ACCESS_KEY_ID"],
            secret_access_key=SecretText(os.environ["LAKEFS_SECRET_ACCESS_KEY"]),
            namespace_prefix=os.environ.get("LAKEFS_STORAGE_NAMESPACE_PREFIX", "local://pulumi-contract"),
            tmp=tmp,
        )

    @classmethod
    def for_fake(cls, fake: FakeLakeFSServer, tmp: Path, timeout_seconds: float = 10.0) -> LakeFSTarget:
        """The in-process fake, logged in with its admin key pair."""
        assert fake.state.credentials is not None, "the fake is not set up"
        key_id, secret = fake.state.credentials
        return cls(fake.endpoint, key_id, secret, "mem://contract", tmp, fake, timeout_seconds)

    def connection(self, **overrides: Any) -> dict[str, Any]:
        """The provider-side `connection` property (camelCase, plain values)."""
        conn = {
            "endpoint": self.endpoint,
            "accessKeyId": self.access_key_id,
            "secretAccessKey": self.secret_access_key,
            "timeoutSeconds": self.timeout_seconds,
            "maxRetries": 2,
            "backoffSeconds": 0.01,
        }
        return {**conn, **overrides}

    def props(self, **props: Any) -> dict[str, Any]:
        return {"connection": self.connection(), **props}

    def session(self) -> Session:
        return Session(ConnectionSettings.from_props({"connection": self.connection()}))

    def unique(self, prefix: str = "t") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    def namespace(self, repo: str) -> str:
        return f"{self.namespace_prefix.rstrip('/')}/{repo}"

    def new_repo(self) -> str:
        """A fresh repository (default branch "main"), deleted at teardown."""
        name = self.unique()
        creation = lakefs_sdk.RepositoryCreation(
            name=name, storage_namespace=self.namespace(name), default_branch="main", storage_id=None
        )
        with self.session() as s:
            s.repositories.create_repository(creation)
        self.created.append(name)
        return name

    def delete_repo(self, repo: str, wait_until_gone: bool = False) -> None:
        """Delete a repository; with `wait_until_gone`, until lakeFS's cache has forgotten it too.

        A real lakeFS keeps answering `GET /repositories/{repo}` for 5 to 7 s after the delete.
        """
        with self.session() as s:
            s.repositories.delete_repository(repo)
            deadline = time.monotonic() + FORGET_WAIT_SECONDS
            while wait_until_gone:
                try:
                    s.repositories.get_repository(repo)
                except lakefs_sdk.exceptions.NotFoundException:
                    return
                assert time.monotonic() < deadline, f"lakeFS still answers for deleted repository {repo}"
                time.sleep(0.2)

    def stage(self, repo: str, branch: str, path: str, content: bytes = b"data") -> None:
        """Upload an object to a branch (an uncommitted change)."""
        source = self.tmp / uuid.uuid4().hex
        source.write_bytes(content)
        with self.session() as s:
            lakefs_sdk.ObjectsApi(s._client).upload_object(repo, branch, path, content=str(source))

    def commit(self, repo: str, branch: str, message: str = "test commit") -> str:
        with self.session() as s:
            commit = lakefs_sdk.CommitsApi(s._client).commit(
                repo,
                branch,
                lakefs_sdk.CommitCreation(message=message, date=None, allow_empty=None, force=None),
            )
        return commit.id

    def load_committed(self, repo: str, branch: str, objects: int) -> list[str]:
        """Commit `objects` small objects to `branch` in one commit; returns their paths.

        The fake takes them straight into its state (100,000 in well under a second); a real lakeFS
        gets them uploaded over the API, `UPLOAD_WORKERS` at a time, then one commit.
        """
        paths = [f"data/{i:08d}.parquet" for i in range(objects)]
        if self.fake is not None:
            with self.fake.state.lock:
                self.fake.state.load_committed(repo, branch, objects)
            return paths
        source = self.tmp / "object"
        source.write_bytes(b"x")
        with self.session() as s, ThreadPoolExecutor(UPLOAD_WORKERS) as pool:
            objects_api = lakefs_sdk.ObjectsApi(s._client)
            list(
                pool.map(
                    lambda path: objects_api.upload_object(repo, branch, path, content=str(source)), paths
                )
            )
        self.commit(repo, branch, f"load {objects} objects")
        return paths

    def head(self, repo: str, branch: str) -> str | None:
        with self.session() as s:
            return s.branch_head(repo, branch)

    def set_rules(self, repo: str, patterns: list[str]) -> None:
        """Replace the repository's branch protection rules, unconditionally (as someone else would)."""
        with self.session() as s:
            rules = [lakefs_sdk.BranchProtectionRule(pattern=p) for p in patterns]
            s.repositories.set_branch_protection_rules(repo, rules)

    def tags(self, repo: str) -> dict[str, str]:
        with self.session() as s:
            refs = s.tags.list_tags(repo, amount=1000)
        return {ref.id: ref.commit_id for ref in refs.results}

    def cleanup(self) -> None:
        with self.session() as s:
            for name in self.created:
                with contextlib.suppress(lakefs_sdk.ApiException):  # the test may have deleted it
                    s.repositories.delete_repository(name, force=True)
