"""A small world for the command's tests: a fake stack backend with a prod tier, the fake lakeFS over
HTTP holding the tier's repository, and a real git remote (a bare repository in a temp dir) next to
the project checkout the command runs in."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from components.naming import sandbox_names
from pipeline_sandbox_cli.backend import UpdateInfo
from pipeline_sandbox_cli.main import main
from tests.cli.fake_backend import FakeBackend, FakeStack
from tests.conftest import ORGANIZATION, PROJECT, PROJECT_ROOT
from tests.lakefs_fake import FakeLakeFSServer
from tests.sandbox_support import PROD_TIER_OUTPUTS

ACCESS_KEY_ID = "AKIACLITESTS"
SECRET = "cli-tests-secret-never-printed"
REPOSITORY = "pipeline"
TIER = f"{ORGANIZATION}/{PROJECT}/prod"
MAIN_HEAD_AGE = timedelta(days=2)


def git(directory: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(directory), *args], check=True, capture_output=True, text=True)
    return result.stdout.strip()


@dataclass
class Result:
    """One run of the command: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class World:
    """Backend, lakeFS and git remote of one test; ``sandbox`` makes a deployed sandbox in all three."""

    backend: FakeBackend
    lakefs: FakeLakeFSServer
    project: Path
    remote: Path
    capsys: pytest.CaptureFixture[str]

    def run(self, *argv: str) -> Result:
        self.capsys.readouterr()
        code = main(["--project-dir", str(self.project), *argv], backend=self.backend)
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def sandbox(
        self,
        branch: str,
        *,
        stack: str | None = None,
        expires_in: timedelta = timedelta(days=3),
        uncommitted: int = 0,
        commits: int = 0,
        pushed: bool = True,
        paused: bool = False,
        legacy: bool = False,
        image: str | None = "r.example.com/p:1",
        discard: bool = False,
    ) -> FakeStack:
        """A deployed sandbox of ``branch``: its lakeFS branch, its git branch, its stack.

        ``pushed``: the git branch is pushed to the remote first, and the sandbox records it
        (``gitBranchPushed``). ``legacy``: deployed before the git outputs existed (none of them).
        ``image``: ``sandbox:image``; None deploys the default image, tagged with the project's HEAD
        (``gitCommit``). ``discard``: ``sandbox:discardUncommitted`` set (config and state).
        """
        names = sandbox_names(branch)
        state = self.lakefs.state
        with state.lock:
            source = state.create_branch(REPOSITORY, {"name": names.lakefs_branch, "source": "main"})
            for i in range(commits):
                state.stage(REPOSITORY, names.lakefs_branch, f"committed/{i}.parquet", f"c{i}".encode())
                state.commit(REPOSITORY, names.lakefs_branch, {"message": f"commit {i}"})
            for i in range(uncommitted):
                state.stage(REPOSITORY, names.lakefs_branch, f"pending/{i}.parquet", f"p{i}".encode())
        if pushed:
            git(self.project, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
        created = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        outputs: dict[str, Any] = {
            "gitBranch": branch,
            "lakefsBranch": names.lakefs_branch,
            "sourceRef": "main",
            "sourceCommit": source,
            "namespace": names.namespace,
            "owner": f"{branch.rsplit('/', maxsplit=1)[-1]}@example.com",
            "createdAt": created.isoformat(),
            "expiresAt": (datetime.now(UTC).replace(microsecond=0) + expires_in).isoformat(),
            "dagsterUrl": f"kubectl -n {names.namespace} port-forward svc/dagster-dagster-webserver 3000:80",
            "paused": paused,
            "tier": TIER,
        }
        if not legacy:
            outputs["gitBranchPushed"] = pushed
            outputs["gitCommit"] = git(self.project, "rev-parse", "HEAD")
            outputs["discardUncommitted"] = discard
        config = {
            "sandbox:branch": branch,
            "sandbox:owner": f"{branch.rsplit('/', maxsplit=1)[-1]}@example.com",
        }
        if image is not None:
            config["sandbox:image"] = image
        if discard:
            config["sandbox:discardUncommitted"] = "true"
        finished = UpdateInfo("update", "succeeded", created, created + timedelta(minutes=3))
        return self.backend.add(FakeStack(stack or names.slug, outputs, config, [finished]))

    def delete_remote_branch(self, branch: str) -> None:
        """The branch is merged and deleted on the remote."""
        git(self.project, "push", "--quiet", "origin", "--delete", branch)

    def branches(self) -> set[str]:
        with self.lakefs.state.lock:
            return set(self.lakefs.state.repos[REPOSITORY].branches)

    def tags(self) -> dict[str, str]:
        with self.lakefs.state.lock:
            return dict(self.lakefs.state.repos[REPOSITORY].tags)


@pytest.fixture(scope="session")
def lakefs_server() -> Iterator[FakeLakeFSServer]:
    server = FakeLakeFSServer(ACCESS_KEY_ID, SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def world(
    lakefs_server: FakeLakeFSServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    state = lakefs_server.state
    with state.lock:
        state.repos.pop(REPOSITORY, None)
        state.create_repository({"name": REPOSITORY, "storage_namespace": f"mem://cli/{tmp_path.name}"})
        # As in a real repository, main's head is not brand new: branches made from it look as old.
        repo = state.repos[REPOSITORY]
        repo.commits[repo.branches["main"].head].creation_date -= int(MAIN_HEAD_AGE.total_seconds())
    remote, project = tmp_path / "remote.git", tmp_path / "project"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    project.mkdir()
    git(project, "init", "--quiet", "--initial-branch", "main")
    git(project, "config", "user.email", "dev@example.com")
    git(project, "config", "user.name", "Dev")
    shutil.copy(PROJECT_ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    git(project, "add", "Pulumi.yaml")
    git(project, "commit", "--quiet", "-m", "project")
    git(project, "remote", "add", "origin", str(remote))
    git(project, "push", "--quiet", "origin", "main")
    backend = FakeBackend()
    tier_outputs = {
        # As the Automation API hands them over: secret outputs as plain values.
        **{k: getattr(v, "value", v) for k, v in PROD_TIER_OUTPUTS.items()},
        "lakefsEndpoint": lakefs_server.endpoint,
        "lakefsRepository": REPOSITORY,
        "lakefsAccessKeyId": ACCESS_KEY_ID,
        "lakefsSecretAccessKey": SECRET,
    }
    backend.add(FakeStack("prod", tier_outputs, {"tier:environment": "prod"}))
    # A tier stack that was never deployed: only its config says what it is.
    backend.add(FakeStack("dev", {}, {"tier:environment": "dev"}))
    yield World(backend, lakefs_server, project, remote, capsys)
