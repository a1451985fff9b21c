"""Contract of `BranchProtectionProvider`: our patterns only, ETag/If-Match, drift.

lakeFS returns the rules in no fixed order, so every comparison here is order-free.
"""

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
    """The repository's rule patterns, sorted (lakeFS answers them in no fixed order)."""
    with lakefs.session() as s:
        return sorted(rule.pattern for rule in s.repositories.get_branch_protection_rules(repo))


def _etag(lakefs: LakeFSTarget, repo: str) -> str:
    with lakefs.session() as s:
        return (s.repositories.get_branch_protection_rules_with_http_info(repo).headers or {}).get(
            "ETag"
        ) or ""


def _set_foreign(lakefs: LakeFSTarget, repo: str, patterns: list[str]) -> None:
    lakefs.set_rules(repo, patterns)


def _writer(fake: FakeLakeFSServer, repo: str, pattern: str) -> Callable[[], None]:
    """A concurrent writer replacing the rules (ignoring ETags) just before our PUT."""
    return lambda: fake.state.set_protection(repo, [{"pattern": pattern}], None)


def test_create_adds_our_patterns_and_keeps_foreign_ones(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    _set_foreign(lakefs, repo, ["ops-*"])

    BranchProtectionProvider().create(lakefs.props(repository=repo, patterns=["main", "ops-*"]))

    assert _rules(lakefs, repo) == ["main", "ops-*"]


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

    lakefs.delete_repo(repo, wait_until_gone=True)
    provider.delete(created.id, created.outs or {})


def test_read_reports_the_rules_gone_with_a_repository_deleted_moments_ago(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    provider = BranchProtectionProvider()
    created = provider.create(lakefs.props(repository=repo, patterns=["main"]))
    lakefs.delete_repo(repo)  # lakeFS still answers the repository and its rules from its cache

    read = provider.read(created.id, created.outs or {})

    assert read.id is None and read.outs == {}


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
    _set_foreign(lakefs, repo, ["release-*"])
    etag = _etag(lakefs, repo)
    _set_foreign(lakefs, repo, ["ops-*"])
    with lakefs.session() as s, pytest.raises(lakefs_sdk.ApiException) as failure:
        rules = [lakefs_sdk.BranchProtectionRule(pattern="main")]
        s.repositories.set_branch_protection_rules(repo, rules, if_match=etag)
    assert failure.value.status == 412
    assert _rules(lakefs, repo) == ["ops-*"]


def test_no_rules_means_an_empty_etag_and_no_conditional_write(lakefs: LakeFSTarget) -> None:
    # Why the first rule cannot be written conditionally: nothing to match, and "" is refused.
    repo = lakefs.new_repo()
    assert _etag(lakefs, repo) == ""
    rules = [lakefs_sdk.BranchProtectionRule(pattern="main")]
    with lakefs.session() as s, pytest.raises(lakefs_sdk.ApiException) as failure:
        s.repositories.set_branch_protection_rules(repo, rules, _headers={"If-Match": ""})
    assert failure.value.status == 400
    assert _rules(lakefs, repo) == []


@pytest.mark.fault_injection
def test_concurrent_change_is_merged_not_clobbered(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    _set_foreign(lakefs, repo, ["release-*"])
    fake.faults.clear()
    # Someone else replaces the rules between our GET and our PUT: lakeFS answers 412, we re-read and merge.
    fake.faults.before("PUT", _writer(fake, repo, "ops-*"))

    BranchProtectionProvider().create(lakefs.props(repository=repo, patterns=["main"]))

    assert _rules(lakefs, repo) == ["main", "ops-*"]
    puts = [r for r in fake.faults.requests if r[0] == "PUT"]
    assert len(puts) == 2


@pytest.mark.fault_injection
def test_the_unconditional_first_write_is_read_back_and_merged(
    lakefs: LakeFSTarget, fake: FakeLakeFSServer
) -> None:
    repo = lakefs.new_repo()
    # No rules: our first write cannot be conditional. A concurrent writer that also saw no rules
    # replaces them right after our write (before our read-back), which drops our rule.
    fake.faults.before("PUT", lambda: fake.faults.before("GET", _writer(fake, repo, "ops-*")))

    BranchProtectionProvider().create(lakefs.props(repository=repo, patterns=["main"]))

    assert _rules(lakefs, repo) == ["main", "ops-*"]
    assert [r for r in fake.faults.requests if r[0] == "PUT"] == [
        ("PUT", f"/api/v1/repositories/{repo}/settings/branch_protection")
    ] * 2


@pytest.mark.fault_injection
def test_rules_answered_without_an_etag_are_not_overwritten(
    lakefs: LakeFSTarget, fake: FakeLakeFSServer
) -> None:
    repo = lakefs.new_repo()
    _set_foreign(lakefs, repo, ["ops-*"])
    fake.faults.strip_etag(1)  # e.g. a proxy that drops the header

    with pytest.raises(errors.LakeFSError, match=r"1 rule\(s\) without an ETag.*strips the ETag header"):
        BranchProtectionProvider().create(lakefs.props(repository=repo, patterns=["main"]))

    assert _rules(lakefs, repo) == ["ops-*"]


@pytest.mark.fault_injection
def test_endless_concurrent_changes_fail_clearly(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    _set_foreign(lakefs, repo, ["release-*"])
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
