"""Sandbox creation is O(1) in data size: `Branch` create makes the same requests for any repository.

Counts requests in the fake (its own server, since bulk-loading is a fake-only helper); a timing test
would be flaky and would measure the fake. `python -m tools.bench_lakefs` prints the full table.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lakefs_fake import FakeLakeFSServer
from tools.bench_lakefs import ACCESS_KEY_ID, SECRET, measure_branch_create

pytestmark = pytest.mark.lakefs


@pytest.fixture
def server() -> Iterator[FakeLakeFSServer]:
    fake = FakeLakeFSServer(ACCESS_KEY_ID, SECRET).start()
    yield fake
    fake.stop()


def _shape(requests: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(method, path) with the repository name taken out, to compare across repositories."""
    return [(method, "/".join(path.split("/")[5:])) for method, path in requests]


def test_branch_create_requests_do_not_grow_with_committed_objects(server: FakeLakeFSServer) -> None:
    small = measure_branch_create(server, 10)
    large = measure_branch_create(server, 10_000)

    assert len(small.requests) == len(large.requests)
    assert _shape(small.requests) == _shape(large.requests)
