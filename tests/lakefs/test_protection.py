"""Contract of `BranchProtectionProvider`: our patterns only, ETag/If-Match, drift."""

from __future__ import annotations

from collections.abc import Callable

import lakefs_sdk
import pytest

from components.lakefs import errors
from components.lakefs.protection import BranchProtectionProvider
from tests.lakefs.conftest import LakeFSTarget
from tests.lakefs_fake import FakeLakeFSServer

pytestmark = pytest.mark.lakefs


def _rules(lakefs: LakeFSTarget, repo: str) -> list[str]:
    with lakefs.session() as s:
        return [rule.pattern for rule in s.repositories.get_branch_protection_rules(repo)]


def _set_foreign(lakefs: LakeFSTarget, repo: str, patterns: list[str]) -> None:
    with lakefs.session() as s:
        rules = [lakefs_sdk.BranchProtectionRule(pattern=p) for p in patterns]
        s.repositories.set_branch_protection_rules(repo, rules)


def _writer(fake: FakeLakeFSServer, repo: str, pattern: str) -> Callable[[], None]:
    """A concurrent writer replacing the rules (ignoring ETags) just before our PUT."""
    return lambda: fake.state.set_protection(repo, [{"pattern": pattern}], None)


def test_create_adds_our_patterns_and_keeps_foreign_ones(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    _set_foreign(lakefs, repo, ["ops-*"])

    BranchProtectionProvider().create(lakefs.props(repository=repo, patterns=["main", "ops-*"]))

    assert _rules(lakefs, repo) == ["ops-*", "main"]


def test_update_removes_dropped_patterns_only(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    provider = BranchProtectionProvider()
    created = provider.create(lakefs.props(repository=repo, patterns=["main", "release-*"]))
    _set_foreign(lakefs, repo, [*_rules(lakefs, repo), "ops-*"])

    provider.update(created.id, created.outs or {}, lakefs.props(repository=repo, patterns=["main"]))

    assert _rules(lakefs, repo) == ["main", "ops-*"]


def test_delete_removes_ours_and_tolerates_a_missing_repository(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    provider = BranchProtectionProvider()
    created = provider.create(lakefs.props(repository=repo, patterns=["main"]))
    _set_foreign(lakefs, repo, ["main", "ops-*"])

    provider.delete(created.id, created.outs or {})
    assert _rules(lakefs, repo) == ["ops-*"]

    with lakefs.session() as s:
        s.repositories.delete_repository(repo)
    provider.delete(created.id, created.outs or {})


def test_read_reports_patterns_removed_out_of_band(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    provider = BranchProtectionProvider()
    created = provider.create(lakefs.props(repository=repo, patterns=["main", "release-*"]))
    _set_foreign(lakefs, repo, ["main"])

    read = provider.read(created.id, created.outs or {})

    assert read.outs is not None and read.outs["patterns"] == ["main"]
    diff = provider.diff(created.id, read.outs, lakefs.props(repository=repo, patterns=["main", "release-*"]))
    assert diff.changes is True and diff.replaces == []


def test_stale_etag_gets_412(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    with lakefs.session() as s:
        etag = (s.repositories.get_branch_protection_rules_with_http_info(repo).headers or {})["ETag"]
    _set_foreign(lakefs, repo, ["ops-*"])
    with lakefs.session() as s, pytest.raises(lakefs_sdk.ApiException) as failure:
        rules = [lakefs_sdk.BranchProtectionRule(pattern="main")]
        s.repositories.set_branch_protection_rules(repo, rules, if_match=etag)
    assert failure.value.status == 412


@pytest.mark.fault_injection
def test_concurrent_change_is_merged_not_clobbered(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    # Someone else adds a rule between our GET and our PUT: lakeFS answers 412, we re-read and merge.
    fake.faults.before("PUT", _writer(fake, repo, "ops-*"))

    BranchProtectionProvider().create(lakefs.props(repository=repo, patterns=["main"]))

    assert _rules(lakefs, repo) == ["ops-*", "main"]
    puts = [r for r in fake.faults.requests if r[0] == "PUT"]
    assert len(puts) == 2


@pytest.mark.fault_injection
def test_endless_concurrent_changes_fail_clearly(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    for i in range(5):
        fake.faults.before("PUT", _writer(fake, repo, f"x{i}"))

    with pytest.raises(
        errors.LakeFSPreconditionFailedError, match=rf"protection rules in repository '{repo}'.*kept changing"
    ):
        BranchProtectionProvider().create(lakefs.props(repository=repo, patterns=["main"]))


def test_writes_to_a_protected_branch_get_403(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    BranchProtectionProvider().create(lakefs.props(repository=repo, patterns=["main"]))

    with pytest.raises(lakefs_sdk.exceptions.ForbiddenException):
        lakefs.stage(repo, "main", "x.txt")
