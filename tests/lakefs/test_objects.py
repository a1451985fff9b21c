"""Object reads and writes as pipeline code does them (lakefs-sdk): the fake must answer as lakeFS does.

The example pipeline's tests (`tests/test_example_pipeline.py`) rely on these behaviours of the fake;
run against a real lakeFS, the same cases check that the fake tells the truth.
"""

from __future__ import annotations

import lakefs_sdk
import pytest
from lakefs_sdk.exceptions import ForbiddenException, NotFoundException

from components.lakefs.protection import BranchProtectionProvider
from tests.lakefs.conftest import LakeFSTarget

pytestmark = pytest.mark.lakefs


def _read(lakefs: LakeFSTarget, repo: str, ref: str, path: str) -> bytes:
    with lakefs.session() as s:
        return bytes(lakefs_sdk.ObjectsApi(s._client).get_object(repo, ref, path))


def test_an_upload_reads_back_on_its_branch_and_after_commit_at_the_commit(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    lakefs.stage(repo, "main", "raw/orders.csv", b"id,amount\n1,5\n")

    assert _read(lakefs, repo, "main", "raw/orders.csv") == b"id,amount\n1,5\n"
    commit = lakefs.commit(repo, "main")
    lakefs.stage(repo, "main", "raw/orders.csv", b"id,amount\n1,6\n")

    assert _read(lakefs, repo, commit, "raw/orders.csv") == b"id,amount\n1,5\n"
    assert _read(lakefs, repo, "main", "raw/orders.csv") == b"id,amount\n1,6\n"


def test_a_missing_object_is_not_found(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()

    with pytest.raises(NotFoundException):
        _read(lakefs, repo, "main", "nowhere.csv")


def test_an_upload_to_a_protected_branch_is_forbidden_and_leaves_it_unchanged(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    BranchProtectionProvider().create(lakefs.props(repository=repo, patterns=["main"]))

    with pytest.raises(ForbiddenException):
        lakefs.stage(repo, "main", "derived/out.csv", b"x")

    with pytest.raises(NotFoundException):
        _read(lakefs, repo, "main", "derived/out.csv")
