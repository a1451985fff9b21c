"""Sandbox creation is O(1) in data size: `Branch` create makes the same requests for any repository.

Runs against the fake and, when LAKEFS_* is set, against a real lakeFS (10,000 objects are then
uploaded first, which takes a while). Requests are counted on the client side, as `make bench` does;
a timing test would be flaky, and against the fake it would measure the fake.
"""

from __future__ import annotations

import re

import pytest

from tests.lakefs.conftest import LakeFSTarget
from tools.bench_lakefs import main, measure_branch_create, sandbox_like_repository

pytestmark = pytest.mark.lakefs

DOCUMENTED_REQUESTS = 4
"""What the README says a sandbox branch costs: repository, protection rules, source commit, create."""


def _shape(requests: list[tuple[str, str]], repo: str) -> list[tuple[str, str]]:
    """(method, path) with the repository name taken out, to compare across repositories."""
    return [
        (method, path.replace(f"/repositories/{repo}", "/repositories/<repo>")) for method, path in requests
    ]


def test_branch_create_requests_do_not_grow_with_committed_objects(lakefs: LakeFSTarget) -> None:
    small_repo, _ = sandbox_like_repository(lakefs, 10)
    large_repo, _ = sandbox_like_repository(lakefs, 10_000)

    small = measure_branch_create(lakefs, small_repo)
    large = measure_branch_create(lakefs, large_repo)

    assert _shape(small.requests, small_repo) == _shape(large.requests, large_repo)
    assert len(large.requests) == DOCUMENTED_REQUESTS
    assert lakefs.head(large_repo, "sbx-bench") == lakefs.head(large_repo, "main")


def test_the_benchmark_reports_the_count_and_the_copy_it_avoids(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sizes", "10", "100", "--repeat", "1", "--copy"]) == 0

    out = capsys.readouterr().out
    assert re.search(r"^\s+100\s+4\s+[\d.]+\s+[\d.]+ s \([\d,]+x\)$", out, re.MULTILINE), out
    assert "OK: the request count does not depend on data size" in out
