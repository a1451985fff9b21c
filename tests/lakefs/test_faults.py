"""Faults: timeouts, retries with backoff for GET/DELETE only, and actionable error messages."""

from __future__ import annotations

import socket

import pytest

from components.lakefs import errors
from components.lakefs.branch import BranchProvider
from components.lakefs.tag import TagProvider
from tests.lakefs.conftest import LakeFSTarget
from tests.lakefs_fake import FakeLakeFSServer

pytestmark = [pytest.mark.lakefs, pytest.mark.fault_injection]


def _requests(fake: FakeLakeFSServer, method: str, suffix: str) -> int:
    return sum(1 for m, path in fake.faults.requests if m == method and path.endswith(suffix))


def _main(lakefs: LakeFSTarget, repo: str) -> dict[str, object]:
    return lakefs.props(repository=repo, branch="main", sourceRef="main")


def test_get_is_retried_on_5xx(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    fake.faults.fail(2, status=503, method="GET")

    read = BranchProvider().read(f"{repo}/main", _main(lakefs, repo))

    assert read.id == f"{repo}/main"
    assert _requests(fake, "GET", "/branches/main") == 3


def test_5xx_after_all_retries_is_a_server_error(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    fake.faults.fail(10, status=500, method="GET")

    with pytest.raises(errors.LakeFSServerError) as failure:
        BranchProvider().read(f"{repo}/main", _main(lakefs, repo))

    assert f"reading branch 'main' in repository '{repo}' at lakeFS {lakefs.endpoint}" in str(failure.value)
    assert "HTTP 500" in str(failure.value) and "server logs" in str(failure.value)
    assert _requests(fake, "GET", "/branches/main") == 3  # 1 + maxRetries


def test_post_is_not_retried(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    fake.faults.fail(1, status=503, method="POST")

    with pytest.raises(errors.LakeFSServerError, match="creating branch 'sbx'"):
        BranchProvider().create(lakefs.props(repository=repo, branch="sbx", sourceRef="main"))

    assert _requests(fake, "POST", "/branches") == 1
    assert lakefs.head(repo, "sbx") is None


def test_4xx_is_not_retried(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    with pytest.raises(errors.LakeFSNotFoundError):
        BranchProvider().create(lakefs.props(repository=repo, branch="sbx", sourceRef="missing"))
    assert _requests(fake, "GET", "/refs/missing/commits") == 1


def test_delete_is_retried_on_5xx(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    provider = BranchProvider()
    created = provider.create(lakefs.props(repository=repo, branch="sbx", sourceRef="main", archive=False))
    fake.faults.fail(2, status=502, method="DELETE")

    provider.delete(created.id, created.outs or {})

    assert lakefs.head(repo, "sbx") is None
    assert _requests(fake, "DELETE", "/branches/sbx") == 3


def test_slow_answer_times_out_and_is_retried(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    # A timeout with room to spare for the retry's normal answer on a loaded machine (0.2 s once
    # failed under load), and a slow answer well past it.
    fake.faults.slow(1, seconds=3.0, method="GET")
    props = {**_main(lakefs, repo), "connection": lakefs.connection(timeoutSeconds=1.0)}

    assert BranchProvider().read(f"{repo}/main", props).id == f"{repo}/main"
    assert _requests(fake, "GET", "/branches/main") == 2


def test_slow_answers_every_time_are_reported_as_timeouts(
    lakefs: LakeFSTarget, fake: FakeLakeFSServer
) -> None:
    repo = lakefs.new_repo()
    fake.faults.slow(3, seconds=0.6, method="GET")
    props = {**_main(lakefs, repo), "connection": lakefs.connection(timeoutSeconds=0.2)}

    with pytest.raises(errors.LakeFSUnreachableError, match=r"did not answer \(timed out\) after 3 attempt"):
        BranchProvider().read(f"{repo}/main", props)


def test_dropped_connection_is_retried_for_get(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    fake.faults.drop(2, method="GET")
    assert BranchProvider().read(f"{repo}/main", _main(lakefs, repo)).id == f"{repo}/main"


def test_dropped_connection_on_post_fails_without_retry(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    fake.faults.drop(1, method="POST")

    with pytest.raises(
        errors.LakeFSUnreachableError, match=r"creating tag 'v1'.*connection dropped.*1 attempt"
    ):
        TagProvider().create(lakefs.props(repository=repo, tag="v1", ref="main"))


def test_wrong_credentials_are_401_and_not_retried(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    props = {**_main(lakefs, repo), "connection": lakefs.connection(secretAccessKey="wrong-secret-value")}

    with pytest.raises(
        errors.LakeFSAuthenticationError, match=r"HTTP 401.*check accessKeyId and secretAccessKey"
    ):
        BranchProvider().read(f"{repo}/main", props)
    assert _requests(fake, "GET", "/branches/main") == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_endpoint_names_it(lakefs: LakeFSTarget) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    props = {
        **lakefs.props(repository="lake", branch="main"),
        "connection": lakefs.connection(endpoint=endpoint),
    }

    with pytest.raises(errors.LakeFSUnreachableError) as failure:
        BranchProvider().read("lake/main", props)

    message = str(failure.value)
    assert f"at lakeFS {endpoint}" in message and "connection refused" in message
    assert "check the endpoint URL" in message
