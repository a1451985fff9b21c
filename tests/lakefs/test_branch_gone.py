"""Deleting a branch whose tier is gone: repository deleted, lakeFS unreachable, and the opt-in.

Everything here runs against the fake and against a real lakeFS alike: a gone repository is a
throwaway repository the test created and deleted, an unreachable lakeFS is a closed port (or an
unresolvable name) on this machine, and a wrong URL is a small server of the test's own. Only the
injected 5xx and slow answers need the fake.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from components.lakefs import errors
from components.lakefs.branch import BranchProvider
from components.lakefs.forget import FORGET_UNREACHABLE_ENV, forget_unreachable_opted_in
from tests.conftest import PROJECT_ROOT
from tests.lakefs.conftest import LakeFSTarget
from tests.lakefs_fake import FakeLakeFSServer
from tests.secrecy import assert_not_shown

pytestmark = pytest.mark.lakefs

HEAD = "c0ffee" * 10 + "beef"
"""A last known head, as the state would hold it."""


@pytest.fixture(autouse=True)
def _no_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start without the opt-in, whatever the shell running pytest has set."""
    monkeypatch.delenv(FORGET_UNREACHABLE_ENV, raising=False)


def _create(lakefs: LakeFSTarget, repo: str, branch: str = "sbx", **extra: Any) -> Any:
    provider = BranchProvider()
    checked = provider.check({}, lakefs.props(repository=repo, branch=branch, sourceRef="main", **extra))
    assert checked.failures == []
    return provider.create(checked.inputs)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _state_at(lakefs: LakeFSTarget, endpoint: str) -> dict[str, Any]:
    """A branch's state whose connection points at `endpoint`."""
    return {
        **lakefs.props(repository="lake", branch="sbx-gone", sourceRef="main"),
        "connection": lakefs.connection(endpoint=endpoint),
        "discardUncommitted": False,
        "archive": True,
        "sourceCommit": HEAD,
        "headCommit": HEAD,
    }


@pytest.fixture
def everything_404() -> Iterator[str]:
    """An HTTP server that answers 404 to every request: a wrong URL, e.g. a proxy path."""

    class NotFound(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = b'{"message": "page not found"}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_DELETE = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}"
    server.shutdown()
    server.server_close()


# -- what lakeFS says is gone ----------------------------------------------------------------------


def test_lookup_tells_a_missing_branch_from_a_missing_repository(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    main_head = lakefs.head(repo, "main")
    _create(lakefs, repo, "sbx")

    with lakefs.session() as s:
        present = s.lookup_branch(repo, "sbx")
        no_branch = s.lookup_branch(repo, "never-created")
        s.repositories.delete_repository(repo)
        no_repo = s.lookup_branch(repo, "sbx")

    assert present.head == main_head
    assert present.missing is None
    assert (no_branch.head, no_branch.missing) == (None, "branch")
    assert (no_repo.head, no_repo.missing) == (None, "repository")


def test_delete_when_the_repository_is_gone_says_so(lakefs: LakeFSTarget, capsys: Any) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx")
    with lakefs.session() as s:
        s.repositories.delete_repository(repo)

    BranchProvider().delete(created.id, created.outs)

    err = capsys.readouterr().err
    assert f"info: lakeFS repository '{repo}' no longer exists at {lakefs.endpoint}" in err
    assert "neither does its branch 'sbx'" in err


def test_delete_when_only_the_branch_is_gone_says_so(lakefs: LakeFSTarget, capsys: Any) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx")
    with lakefs.session() as s:
        s.branches.delete_branch(repo, "sbx")

    BranchProvider().delete(created.id, created.outs)

    err = capsys.readouterr().err
    assert f"info: lakeFS branch 'sbx' in repository '{repo}' at {lakefs.endpoint} is already gone" in err
    assert "no longer exists" not in err


def test_a_wrong_url_answering_404_is_not_taken_for_a_gone_branch(
    lakefs: LakeFSTarget, everything_404: str
) -> None:
    state = _state_at(lakefs, everything_404)

    with pytest.raises(errors.LakeFSNotFoundError) as failure:
        BranchProvider().delete("lake/sbx-gone", state)
    with pytest.raises(errors.LakeFSNotFoundError):
        BranchProvider().read("lake/sbx-gone", state)  # refresh must not drop it from the state either

    message = str(failure.value)
    assert f"branch 'sbx-gone' in repository 'lake' at lakeFS {everything_404}" in message
    assert "does not look like a lakeFS server" in message and "/api/v1/user" in message


# -- lakeFS does not answer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint", [f"http://127.0.0.1:{_closed_port()}", "http://lakefs-tier-gone.invalid:8000"]
)
def test_delete_refuses_to_forget_a_branch_when_lakefs_does_not_answer(
    lakefs: LakeFSTarget, endpoint: str
) -> None:
    with pytest.raises(errors.LakeFSUnreachableError) as failure:
        BranchProvider().delete("lake/sbx-gone", _state_at(lakefs, endpoint))

    message = str(failure.value)
    assert (
        f"refusing to forget lakeFS branch 'sbx-gone' in repository 'lake': lakeFS at {endpoint}" in message
    )
    assert "connection refused or host unknown" in message and "after 3 attempt(s)" in message
    assert "bring lakeFS back" in message and "run `pulumi destroy` again" in message
    assert f"`{FORGET_UNREACHABLE_ENV}=1 pulumi destroy`" in message
    assert f"last known head commit: {HEAD}" in message
    assert_not_shown(message, lakefs.secret_access_key)


@pytest.mark.parametrize("value", ["1", "true", "YES", " True "])
def test_with_the_opt_in_an_unreachable_lakefs_is_forgotten_with_a_warning(
    lakefs: LakeFSTarget, monkeypatch: pytest.MonkeyPatch, capsys: Any, value: str
) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv(FORGET_UNREACHABLE_ENV, value)

    BranchProvider().delete("lake/sbx-gone", _state_at(lakefs, endpoint))

    err = capsys.readouterr().err
    assert f"warning: lakeFS at {endpoint} did not answer (connection refused or host unknown)" in err
    assert f"{FORGET_UNREACHABLE_ENV} is set, so lakeFS branch 'sbx-gone' in repository 'lake'" in err
    assert "WITHOUT being deleted" in err and f"last known head commit was {HEAD}" in err


@pytest.mark.parametrize("value", ["0", "false", "No", ""])
def test_a_falsy_opt_in_value_leaves_the_refusal_in_place(
    lakefs: LakeFSTarget, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(FORGET_UNREACHABLE_ENV, value)
    with pytest.raises(errors.LakeFSUnreachableError, match="refusing to forget"):
        BranchProvider().delete("lake/sbx-gone", _state_at(lakefs, f"http://127.0.0.1:{_closed_port()}"))


@pytest.mark.parametrize("value", ["maybe", "on", "2", "y"])
def test_an_unrecognised_opt_in_value_fails_before_anything_is_done(
    lakefs: LakeFSTarget, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx")
    monkeypatch.setenv(FORGET_UNREACHABLE_ENV, value)

    with pytest.raises(errors.LakeFSValidationError) as failure:
        BranchProvider().delete(created.id, created.outs)

    message = str(failure.value)
    assert f"{FORGET_UNREACHABLE_ENV}={value!r} is not understood" in message
    assert "1, true, yes" in message
    assert lakefs.head(repo, "sbx") is not None


def test_opt_in_parsing_without_the_variable_is_off() -> None:
    assert forget_unreachable_opted_in({}) is False
    assert forget_unreachable_opted_in({FORGET_UNREACHABLE_ENV: "yes"}) is True


# -- what the opt-in never forgives ----------------------------------------------------------------


def test_the_opt_in_does_not_forgive_rejected_credentials(
    lakefs: LakeFSTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx")
    state = {**created.outs, "connection": lakefs.connection(secretAccessKey="wrong-secret-value")}
    monkeypatch.setenv(FORGET_UNREACHABLE_ENV, "1")

    with pytest.raises(errors.LakeFSAuthenticationError, match="HTTP 401"):
        BranchProvider().delete(created.id, state)
    assert lakefs.head(repo, "sbx") is not None


def test_the_opt_in_does_not_forgive_uncommitted_changes(
    lakefs: LakeFSTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx")
    lakefs.stage(repo, "sbx", "precious.parquet")
    monkeypatch.setenv(FORGET_UNREACHABLE_ENV, "1")

    with pytest.raises(errors.UncommittedChangesError, match=r"precious\.parquet"):
        BranchProvider().delete(created.id, created.outs)
    assert lakefs.head(repo, "sbx") is not None


@pytest.mark.fault_injection
def test_the_opt_in_does_not_forgive_server_errors(
    lakefs: LakeFSTarget, fake: FakeLakeFSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx")
    monkeypatch.setenv(FORGET_UNREACHABLE_ENV, "1")
    fake.faults.fail(10, status=503, method="GET")

    with pytest.raises(errors.LakeFSServerError, match="HTTP 503"):
        BranchProvider().delete(created.id, created.outs)
    fake.faults.clear()
    assert lakefs.head(repo, "sbx") is not None


@pytest.mark.fault_injection
def test_timeouts_after_the_retries_count_as_unreachable(
    lakefs: LakeFSTarget, fake: FakeLakeFSServer, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx")
    state = {**created.outs, "connection": lakefs.connection(timeoutSeconds=0.2)}
    fake.faults.slow(3, seconds=0.5, method="GET")
    with pytest.raises(errors.LakeFSUnreachableError, match=r"did not answer \(timed out\) after 3"):
        BranchProvider().delete(created.id, state)

    monkeypatch.setenv(FORGET_UNREACHABLE_ENV, "1")
    fake.faults.slow(3, seconds=0.5, method="GET")
    BranchProvider().delete(created.id, state)

    assert "is forgotten: removed from the Pulumi state" in capsys.readouterr().err
    assert lakefs.head(repo, "sbx") is not None  # forgotten, not deleted


@pytest.mark.fault_injection
def test_the_opt_in_does_not_forgive_a_lakefs_that_answered_and_then_stopped(
    lakefs: LakeFSTarget, fake: FakeLakeFSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # lakeFS showed the branch exists, so it is not gone for good: its changes are still unchecked.
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx")
    monkeypatch.setenv(FORGET_UNREACHABLE_ENV, "1")
    fake.faults.before("GET", lambda: fake.faults.drop(10, method="GET"))  # answers once, then drops

    with pytest.raises(errors.LakeFSUnreachableError, match="listing uncommitted changes of branch 'sbx'"):
        BranchProvider().delete(created.id, created.outs)
    fake.faults.clear()
    assert lakefs.head(repo, "sbx") is not None


# -- the provider process ---------------------------------------------------------------------------

# In the child, as the engine's provider host: unpickle the provider, then delete.
_CHILD = """
import base64, json, sys
import dill
request = json.loads(sys.stdin.read())
provider = dill.loads(base64.b64decode(request["provider"]))
provider.delete(request["id"], request["props"])
"""


@pytest.mark.parametrize("opted_in", [False, True])
def test_the_provider_process_reads_the_opt_in_from_its_environment(
    lakefs: LakeFSTarget, opted_in: bool
) -> None:
    # The provider is pickled before the variable is set: only the child's environment can decide.
    request = {
        "provider": serialize_provider(BranchProvider()),
        "id": "lake/sbx-gone",
        "props": _state_at(lakefs, f"http://127.0.0.1:{_closed_port()}"),
    }
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", FORGET_UNREACHABLE_ENV)}
    if opted_in:
        env[FORGET_UNREACHABLE_ENV] = "1"

    result = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=json.dumps(request),
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    if opted_in:
        assert result.returncode == 0, result.stderr
        assert "is forgotten" in result.stderr
    else:
        assert result.returncode != 0
        assert "LakeFSUnreachableError: refusing to forget" in result.stderr
