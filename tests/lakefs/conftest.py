"""Fixtures of the lakeFS provider contract suite.

By default every test runs against the in-process fake (`tests.lakefs_fake`). Set
LAKEFS_ENDPOINT, LAKEFS_ACCESS_KEY_ID and LAKEFS_SECRET_ACCESS_KEY to run the same tests against a
real lakeFS (`tests.lakefs_target`); repositories are then created with unique names under the
storage namespace LAKEFS_STORAGE_NAMESPACE_PREFIX and deleted afterwards. Tests marked
`fault_injection` need the fake and are skipped then.

Secrets are `SecretText`: a failing assertion that shows a provider's outputs (which carry the whole
connection) prints `'<secret>'`, never the key, whether it is the fake's or a real lakeFS's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lakefs_fake import FakeLakeFSServer
from tests.lakefs_target import LakeFSTarget, real_lakefs_configured
from tests.secrecy import SecretText

SECRET = SecretText("fake-Secret/Key+never-print-me")
ACCESS_KEY_ID = "AKIAFAKECONTRACT"


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeLakeFSServer | None]:
    if real_lakefs_configured():
        yield None
        return
    server = FakeLakeFSServer(ACCESS_KEY_ID, SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def lakefs(_fake_server: FakeLakeFSServer | None, tmp_path: Path) -> Iterator[LakeFSTarget]:
    """The lakeFS under test: the fake by default, a real one when LAKEFS_* is set."""
    if _fake_server is None:
        target = LakeFSTarget.from_environment(tmp_path)
    else:
        _fake_server.faults.clear()
        target = LakeFSTarget.for_fake(_fake_server, tmp_path, timeout_seconds=0.5)
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
    if request.node.get_closest_marker("fault_injection") and real_lakefs_configured():
        pytest.skip("fault injection needs the fake lakeFS")
