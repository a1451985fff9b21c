"""Contract of `BranchProvider`: pinned create, adoption, refresh/drift, replacement, safe delete."""

from __future__ import annotations

import re
from typing import Any

import lakefs_sdk
import pytest

from components.lakefs import errors
from components.lakefs.branch import BranchProvider, archive_tag_id
from tests.lakefs.conftest import LakeFSTarget
from tests.lakefs_fake import FakeLakeFSServer
from tests.secrecy import SecretText, assert_not_shown

pytestmark = pytest.mark.lakefs


def _create(lakefs: LakeFSTarget, repo: str, branch: str, source: str = "main", **extra: Any) -> Any:
    provider = BranchProvider()
    checked = provider.check({}, lakefs.props(repository=repo, branch=branch, sourceRef=source, **extra))
    assert checked.failures == []
    return provider.create(checked.inputs)


def test_create_pins_the_source_commit(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    main_head = lakefs.head(repo, "main")

    result = _create(lakefs, repo, "sbx")

    assert result.id == f"{repo}/sbx"
    assert result.outs["sourceCommit"] == main_head
    assert result.outs["headCommit"] == main_head
    assert lakefs.head(repo, "sbx") == main_head


@pytest.mark.parametrize("kind", ["tag", "commit"])
def test_create_from_tag_or_commit(lakefs: LakeFSTarget, kind: str) -> None:
    repo = lakefs.new_repo()
    lakefs.stage(repo, "main", "a.txt")
    pinned = lakefs.commit(repo, "main")
    if kind == "tag":
        with lakefs.session() as s:
            s.tags.create_tag(repo, lakefs_sdk.TagCreation(id="v1", ref=pinned, force=None))
        source = "v1"
    else:
        source = pinned
    lakefs.stage(repo, "main", "b.txt")
    lakefs.commit(repo, "main")  # main moves on; the sandbox must not follow

    result = _create(lakefs, repo, "sbx", source)

    assert result.outs["sourceCommit"] == pinned
    assert lakefs.head(repo, "sbx") == pinned


def test_create_with_missing_source_names_it(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    with pytest.raises(errors.LakeFSNotFoundError, match=rf"resolving ref 'nope' in repository '{repo}'"):
        _create(lakefs, repo, "sbx", "nope")


def test_create_in_missing_repository_is_not_found(lakefs: LakeFSTarget) -> None:
    with pytest.raises(errors.LakeFSNotFoundError, match="repository 'no-such-repo'"):
        _create(lakefs, "no-such-repo", "sbx")


def test_existing_branch_at_the_source_commit_is_adopted(lakefs: LakeFSTarget, capsys: Any) -> None:
    repo = lakefs.new_repo()
    _create(lakefs, repo, "sbx")

    result = _create(lakefs, repo, "sbx")

    assert result.outs["sourceCommit"] == lakefs.head(repo, "main")
    assert "adopted existing lakeFS branch 'sbx'" in capsys.readouterr().err


def test_existing_branch_elsewhere_is_refused(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    _create(lakefs, repo, "sbx")
    lakefs.stage(repo, "sbx", "x.txt")
    lakefs.commit(repo, "sbx")

    with pytest.raises(errors.LakeFSConflictError, match=r"branch 'sbx' already exists at commit"):
        _create(lakefs, repo, "sbx")


def test_existing_branch_with_uncommitted_changes_is_refused(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    _create(lakefs, repo, "sbx")
    lakefs.stage(repo, "sbx", "dirty.txt")

    with pytest.raises(
        errors.LakeFSConflictError, match=r"'sbx' already exists and has uncommitted.*dirty\.txt"
    ):
        _create(lakefs, repo, "sbx")


def test_read_reports_head_moves(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx")
    lakefs.stage(repo, "sbx", "x.txt")
    new_head = lakefs.commit(repo, "sbx")

    read = BranchProvider().read(created.id, created.outs)

    assert read.id == created.id
    assert read.outs is not None
    assert read.outs["headCommit"] == new_head
    assert read.outs["sourceCommit"] == created.outs["sourceCommit"]


def test_read_reports_a_branch_deleted_out_of_band_as_gone(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx")
    with lakefs.session() as s:
        s.branches.delete_branch(repo, "sbx")

    read = BranchProvider().read(created.id, created.outs)

    assert read.id is None
    assert read.outs == {}


def test_read_after_import_uses_the_id(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    read = BranchProvider().read(f"{repo}/main", {"connection": lakefs.connection()})
    assert read.outs is not None
    assert read.outs["branch"] == "main"
    assert read.outs["headCommit"] == lakefs.head(repo, "main")


def test_changing_the_source_replaces_and_deletes_first() -> None:
    olds = {"repository": "lake", "branch": "sbx", "sourceRef": "main", "archive": True}
    diff = BranchProvider().diff("lake/sbx", olds, {**olds, "sourceRef": "v2"})
    assert diff.changes is True
    assert diff.replaces == ["sourceRef"]
    assert diff.delete_before_replace is True


def test_renaming_the_branch_replaces_create_first() -> None:
    olds = {"repository": "lake", "branch": "sbx", "sourceRef": "main"}
    diff = BranchProvider().diff("lake/sbx", olds, {**olds, "branch": "sbx2"})
    assert diff.replaces == ["branch"]
    assert diff.delete_before_replace is False


def test_flags_update_in_place(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx")
    news = {k: v for k, v in created.outs.items() if k not in ("sourceCommit", "headCommit")}
    news["discardUncommitted"] = True
    provider = BranchProvider()

    diff = provider.diff(created.id, created.outs, news)
    updated = provider.update(created.id, created.outs, news)

    assert diff.changes is True and diff.replaces == []
    assert updated.outs is not None
    assert updated.outs["discardUncommitted"] is True
    assert updated.outs["sourceCommit"] == created.outs["sourceCommit"]


def test_no_diff_when_nothing_changed(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx")
    news = {k: v for k, v in created.outs.items() if k not in ("sourceCommit", "headCommit")}
    diff = BranchProvider().diff(created.id, created.outs, news)
    assert diff.changes is False


def test_check_rejects_invalid_names_without_network() -> None:
    props = {
        "connection": {"endpoint": "lakefs:8000", "accessKeyId": "a", "secretAccessKey": "s"},
        "repository": "Bad_Repo",
        "branch": "feature/x",
        "sourceRef": "",
    }
    failures = {f.property: f.reason for f in BranchProvider().check({}, props).failures}
    assert set(failures) == {"connection.endpoint", "repository", "branch", "sourceRef"}
    assert "no '/'" in failures["branch"]


def test_delete_refuses_uncommitted_changes(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx")
    for i in range(7):
        lakefs.stage(repo, "sbx", f"data/part-{i}.parquet")

    with pytest.raises(errors.UncommittedChangesError) as failure:
        BranchProvider().delete(created.id, created.outs)

    message = str(failure.value)
    assert "it has 7 uncommitted change(s)" in message
    assert "data/part-0.parquet" in message and "data/part-6.parquet" not in message
    assert "sandbox:discardUncommitted" in message and "Commit them" in message
    assert lakefs.head(repo, "sbx") is not None
    assert not [t for t in lakefs.tags(repo) if t.startswith("archive-")]


def test_delete_discards_when_told_and_archives_the_head(lakefs: LakeFSTarget, capsys: Any) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx", discardUncommitted=True)
    lakefs.stage(repo, "sbx", "kept.txt")
    committed = lakefs.commit(repo, "sbx")
    lakefs.stage(repo, "sbx", "dropped.txt")

    BranchProvider().delete(created.id, created.outs)

    assert lakefs.head(repo, "sbx") is None
    archived = {t: c for t, c in lakefs.tags(repo).items() if t.startswith("archive-sbx-")}
    assert list(archived.values()) == [committed]
    (tag,) = archived
    assert re.fullmatch(r"archive-sbx-\d{8}T\d{6}Z", tag)
    assert f"is tagged '{tag}'" in capsys.readouterr().err


def test_delete_without_archive_leaves_no_tag(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    created = _create(lakefs, repo, "sbx", archive=False)

    BranchProvider().delete(created.id, created.outs)

    assert lakefs.head(repo, "sbx") is None
    assert lakefs.tags(repo) == {}


def test_delete_of_the_default_branch_is_refused_clearly(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    props = lakefs.props(repository=repo, branch="main", sourceRef="main", archive=False)
    with pytest.raises(errors.LakeFSPermissionError, match=rf"deleting branch 'main' in repository '{repo}'"):
        BranchProvider().delete(f"{repo}/main", props)


def test_archive_tag_ids_are_valid_lakefs_branch_style_ids() -> None:
    from datetime import UTC, datetime

    tag = archive_tag_id("sbx-feature_x", datetime(2026, 11, 25, 11, 15, tzinfo=UTC))
    assert tag == "archive-sbx-feature_x-20261125T111500Z"
    assert re.fullmatch(r"\w[-\w]*", tag)


def test_check_accepts_values_unknown_during_preview() -> None:
    from pulumi.runtime import rpc

    props = {"connection": rpc.UNKNOWN, "repository": rpc.UNKNOWN, "branch": "sbx", "sourceRef": rpc.UNKNOWN}
    assert BranchProvider().check({}, props).failures == []


# -- the tier's protection, checked before a sandbox branch is created -----------------------------

TIER = "organization/pipeline-sandbox/prod"


def test_create_refuses_a_repository_whose_default_branch_is_unprotected(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    lakefs.set_rules(repo, ["release-*"])

    with pytest.raises(errors.UnprotectedDefaultBranchError) as failure:
        _create(lakefs, repo, "sbx", requireProtectedDefault=True, tierStack=TIER)

    message = str(failure.value)
    assert (
        f"refusing to create sandbox branch 'sbx' in repository '{repo}' at lakeFS {lakefs.endpoint}"
        in message
    )
    assert "default branch 'main' is not protected (its protection rules: 'release-*')" in message
    assert f"Tier stack '{TIER}' protects it: run `pulumi up --stack {TIER}`" in message
    assert lakefs.head(repo, "sbx") is None


def test_without_a_tier_stack_the_refusal_says_how_to_protect_it(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    with pytest.raises(
        errors.UnprotectedDefaultBranchError, match=r"rules: none\).*lakectl branch-protect add"
    ):
        _create(lakefs, repo, "sbx", requireProtectedDefault=True)


@pytest.mark.parametrize("pattern", ["main", "ma*", "m?in"])
def test_create_on_a_protected_default_branch_goes_ahead(lakefs: LakeFSTarget, pattern: str) -> None:
    repo = lakefs.new_repo()
    lakefs.set_rules(repo, ["release-*", pattern])

    result = _create(lakefs, repo, "sbx", requireProtectedDefault=True, tierStack=TIER)

    assert lakefs.head(repo, "sbx") == result.outs["sourceCommit"] == lakefs.head(repo, "main")


@pytest.mark.fault_injection
def test_the_protection_check_only_reads(lakefs: LakeFSTarget, fake: FakeLakeFSServer) -> None:
    repo = lakefs.new_repo()
    fake.faults.clear()
    with pytest.raises(errors.UnprotectedDefaultBranchError):
        _create(lakefs, repo, "sbx", requireProtectedDefault=True, tierStack=TIER)
    assert {method for method, _ in fake.faults.requests} == {"GET"}


def test_rejected_credentials_name_the_tier_stack_and_its_outputs(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    lakefs.set_rules(repo, ["main"])
    created = _create(lakefs, repo, "sbx", requireProtectedDefault=True, tierStack=TIER)
    rejected = lakefs.connection(secretAccessKey=SecretText("wrong-Secret-Value-42"))

    failures = []
    for attempt in (
        lambda: BranchProvider().create({**created.outs, "connection": rejected, "branch": "sbx2"}),
        lambda: BranchProvider().delete(created.id, {**created.outs, "connection": rejected}),
    ):
        with pytest.raises(errors.LakeFSAuthenticationError) as failure:
            attempt()
        failures.append(str(failure.value))

    for message in failures:
        assert f"HTTP 401: lakeFS rejected the credentials; this key pair is tier stack '{TIER}''s" in message
        assert "outputs lakefsAccessKeyId and lakefsSecretAccessKey" in message
        assert f"`pulumi up --stack {TIER}` succeeded" in message
        assert_not_shown(message, lakefs.secret_access_key, "wrong-Secret-Value-42", where="the 401 message")
    assert lakefs.head(repo, "sbx") is not None
