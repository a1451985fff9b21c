"""Fixtures of the lakeFS provider contract suite.

By default every test runs against the in-process fake (`tests.lakefs_fake`). Set
LAKEFS_ENDPOINT, LAKEFS_ACCESS_KEY_ID and LAKEFS_SECRET_ACCESS_KEY to run the same tests against a
real lakeFS; repositories are then created with unique names under the storage namespace
LAKEFS_STORAGE_NAMESPACE_PREFIX (default "local://pulumi-contract", which a quickstart lakeFS
accepts) and deleted afterwards. Tests marked `fault_injection` need the fake and are skipped then.

Secrets are `SecretText`: a failing assertion that shows a provider's outputs (which carry the whole
connection) prints `'<secret>'`, never the key, whether it is the fake's or a real lakeFS's.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lakefs_sdk
import pytest

from components.lakefs.client import FORGET_WAIT_SECONDS, ConnectionSettings, Session
from tests.lakefs_fake import FakeLakeFSServer
from tests.secrecy import SecretText

SECRET = SecretText("fake-Secret/Key+never-print-me")
ACCESS_KEY_ID = "AKIAFAKECONTRACT"


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


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeLakeFSServer | None]:
    if os.environ.get("LAKEFS_ENDPOINT"):
        yield None
        return
    server = FakeLakeFSServer(ACCESS_KEY_ID, SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def lakefs(_fake_server: FakeLakeFSServer | None, tmp_path: Path) -> Iterator[LakeFSTarget]:
    """The lakeFS under test: the fake by default, a real one when LAKEFS_* is set."""
    if _fake_server is None:
        target = LakeFSTarget(
            endpoint=os.environ["LAKEFS_ENDPOINT"],
            access_key_id=os.environ["LAKEFS_ACCESS_KEY_ID"],
            secret_access_key=SecretText(os.environ["LAKEFS_SECRET_ACCESS_KEY"]),
            namespace_prefix=os.environ.get("LAKEFS_STORAGE_NAMESPACE_PREFIX", "local://pulumi-contract"),
            tmp=tmp_path,
        )
    else:
        _fake_server.faults.clear()
        target = LakeFSTarget(
            _fake_server.endpoint, ACCESS_KEY_ID, SECRET, "mem://contract", tmp_path, _fake_server, 0.5
        )
    yield target
    if _fake_server is not None:
        _fake_server.faults.clear()
    target.cleanup()


@pytest.fixture
def fake(lakefs: LakeFSTarget) -> FakeLakeFSServer:
    """The fake server (for fault injection); fault-injection tests are skipped on a real lakeFS."""
    assert lakefs.fake is not None
    return lakefs.fake


@pytest.fixture(autouse=True)
def _skip_faults_on_real_lakefs(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("fault_injection") and os.environ.get("LAKEFS_ENDPOINT"):
        pytest.skip("fault injection needs the fake lakeFS")
