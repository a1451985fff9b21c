"""The sandbox's delete guard: a branch delete's refusals, raised before anything else is deleted.

Its delete must refuse exactly where the branch's own delete would (uncommitted changes, a lakeFS
that does not answer), pass where the branch's delete would pass (clean, already gone, opted in), and
never change anything on lakeFS: it only looks. Runs against the fake and a real lakeFS alike.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from pulumi.runtime import rpc

from components.lakefs import errors
from components.lakefs.branch import BranchProvider
from components.lakefs.guard import BranchDeleteGuardProvider
from components.lakefs.opt_in import (
    DISCARD_UNCOMMITTED_ENV,
    FORGET_UNREACHABLE_ENV,
    discard_uncommitted_opted_in,
)
from tests.lakefs.conftest import LakeFSTarget

pytestmark = pytest.mark.lakefs


@pytest.fixture(autouse=True)
def _no_opt_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start without either opt-in, whatever the shell running pytest has set."""
    monkeypatch.delenv(FORGET_UNREACHABLE_ENV, raising=False)
    monkeypatch.delenv(DISCARD_UNCOMMITTED_ENV, raising=False)


def _branch(lakefs: LakeFSTarget, repo: str, branch: str = "sbx") -> dict[str, Any]:
    """Creates a sandbox branch the way the Branch provider does; returns its state."""
    provider = BranchProvider()
    checked = provider.check({}, lakefs.props(repository=repo, branch=branch, sourceRef="main"))
    return dict(provider.create(checked.inputs).outs or {})


def _guard(lakefs: LakeFSTarget, branch_state: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Creates the guard of a branch; returns its state."""
    provider = BranchDeleteGuardProvider()
    inputs = lakefs.props(
        repository=branch_state["repository"],
        branch=branch_state["branch"],
        sourceCommit=branch_state["sourceCommit"],
    )
    checked = provider.check({}, {**inputs, **overrides})
    assert checked.failures == []
    return dict(provider.create(checked.inputs).outs or {})


def _delete_guard(state: dict[str, Any]) -> None:
    BranchDeleteGuardProvider().delete(f"{state['repository']}/{state['branch']}", state)


def _closed_port_endpoint() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _pending(lakefs: LakeFSTarget, repo: str, branch: str) -> int:
    with lakefs.session() as s:
        return s.uncommitted(repo, branch).count


# -- refusals: the same as the branch's, and nothing moves ----------------------------------------


def test_uncommitted_changes_refuse_and_leave_the_branch_untouched(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    branch = _branch(lakefs, repo)
    guard = _guard(lakefs, branch)
    lakefs.stage(repo, "sbx", "results/precious.parquet")

    with pytest.raises(errors.UncommittedChangesError) as failure:
        _delete_guard(guard)

    message = str(failure.value)
    assert "refusing to delete lakeFS branch 'sbx'" in message and "results/precious.parquet" in message
    assert "Nothing was deleted" in message
    assert f"`{DISCARD_UNCOMMITTED_ENV}=1 pulumi destroy`" in message
    assert "sandbox:discardUncommitted" in message
    assert lakefs.secret_access_key not in message
    assert lakefs.head(repo, "sbx") == branch["sourceCommit"]
    assert _pending(lakefs, repo, "sbx") == 1
    assert lakefs.tags(repo) == {}  # nothing archived either: the guard only looks


def test_its_refusal_is_the_branch_deletes_refusal(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    branch = _branch(lakefs, repo)
    guard = _guard(lakefs, branch)
    lakefs.stage(repo, "sbx", "a.csv")

    with pytest.raises(errors.UncommittedChangesError) as by_guard:
        _delete_guard(guard)
    with pytest.raises(errors.UncommittedChangesError) as by_branch:
        BranchProvider().delete(f"{repo}/sbx", branch)

    assert str(by_guard.value) == str(by_branch.value)


def test_an_unreachable_lakefs_refuses_naming_the_way_out(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    endpoint = _closed_port_endpoint()
    guard = {**_guard(lakefs, _branch(lakefs, repo)), "connection": lakefs.connection(endpoint=endpoint)}

    with pytest.raises(errors.LakeFSUnreachableError) as failure:
        _delete_guard(guard)

    message = str(failure.value)
    assert f"lakeFS at {endpoint} did not answer" in message
    assert f"`{FORGET_UNREACHABLE_ENV}=1 pulumi destroy`" in message


def test_rejected_credentials_refuse_whatever_the_opt_ins(
    lakefs: LakeFSTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = lakefs.new_repo()
    guard = _guard(lakefs, _branch(lakefs, repo))
    guard["connection"] = lakefs.connection(secretAccessKey="wrong-secret-value")
    monkeypatch.setenv(DISCARD_UNCOMMITTED_ENV, "1")
    monkeypatch.setenv(FORGET_UNREACHABLE_ENV, "1")

    with pytest.raises(errors.LakeFSAuthenticationError, match="HTTP 401"):
        _delete_guard(guard)


def test_the_discard_opt_in_does_not_forgive_an_unreachable_lakefs(
    lakefs: LakeFSTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = lakefs.new_repo()
    guard = _guard(lakefs, _branch(lakefs, repo))
    guard["connection"] = lakefs.connection(endpoint=_closed_port_endpoint())
    monkeypatch.setenv(DISCARD_UNCOMMITTED_ENV, "1")

    with pytest.raises(errors.LakeFSUnreachableError, match="refusing to forget"):
        _delete_guard(guard)


# -- passes: where the branch's delete would go ahead ----------------------------------------------


def test_a_clean_branch_passes_and_stays(lakefs: LakeFSTarget, capsys: Any) -> None:
    repo = lakefs.new_repo()
    branch = _branch(lakefs, repo)

    _delete_guard(_guard(lakefs, branch))

    assert lakefs.head(repo, "sbx") == branch["sourceCommit"]
    assert lakefs.tags(repo) == {}
    assert "lakeFS branch 'sbx'" in capsys.readouterr().err


def test_an_already_deleted_branch_passes(lakefs: LakeFSTarget, capsys: Any) -> None:
    repo = lakefs.new_repo()
    guard = _guard(lakefs, _branch(lakefs, repo))
    with lakefs.session() as s:
        s.branches.delete_branch(repo, "sbx")

    _delete_guard(guard)

    assert "is already gone" in capsys.readouterr().err


def test_a_deleted_repository_passes(lakefs: LakeFSTarget, capsys: Any) -> None:
    repo = lakefs.new_repo()
    guard = _guard(lakefs, _branch(lakefs, repo))
    with lakefs.session() as s:
        s.repositories.delete_repository(repo)

    _delete_guard(guard)

    err = capsys.readouterr().err
    assert "nothing to delete" in err


def test_the_forget_opt_in_lets_an_unreachable_lakefs_pass(
    lakefs: LakeFSTarget, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    repo = lakefs.new_repo()
    guard = _guard(lakefs, _branch(lakefs, repo))
    guard["connection"] = lakefs.connection(endpoint=_closed_port_endpoint())
    monkeypatch.setenv(FORGET_UNREACHABLE_ENV, "1")

    _delete_guard(guard)

    err = capsys.readouterr().err
    # The warning that the branch is forgotten belongs to the branch's own delete, which follows.
    assert f"{FORGET_UNREACHABLE_ENV} is set: the delete of lakeFS branch 'sbx' forgets it" in err
    assert "WITHOUT being deleted" not in err


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_the_discard_opt_in_lets_uncommitted_changes_pass_without_touching_them(
    lakefs: LakeFSTarget, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    repo = lakefs.new_repo()
    guard = _guard(lakefs, _branch(lakefs, repo))
    lakefs.stage(repo, "sbx", "scratch.csv")
    monkeypatch.setenv(DISCARD_UNCOMMITTED_ENV, value)

    _delete_guard(guard)

    assert _pending(lakefs, repo, "sbx") == 1  # discarding is the branch delete's job, not the guard's


def test_the_discard_config_flag_lets_uncommitted_changes_pass(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    guard = _guard(lakefs, _branch(lakefs, repo), discardUncommitted=True)
    lakefs.stage(repo, "sbx", "scratch.csv")

    _delete_guard(guard)

    assert lakefs.head(repo, "sbx") is not None


def test_with_the_discard_opt_in_the_branch_delete_discards_archives_and_warns(
    lakefs: LakeFSTarget, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    # The destroy the guard let through: the branch's own delete honours the same variable.
    repo = lakefs.new_repo()
    branch = _branch(lakefs, repo)
    lakefs.stage(repo, "sbx", "scratch.csv")
    monkeypatch.setenv(DISCARD_UNCOMMITTED_ENV, "1")

    BranchProvider().delete(f"{repo}/sbx", branch)

    assert lakefs.head(repo, "sbx") is None
    assert list(lakefs.tags(repo).values()) == [branch["sourceCommit"]]
    err = capsys.readouterr().err
    assert "warning: discarding 1 uncommitted change(s) on lakeFS branch 'sbx'" in err
    assert "scratch.csv" in err


@pytest.mark.parametrize("value", ["maybe", "on", "2"])
def test_an_unrecognised_discard_value_fails_before_any_request(
    lakefs: LakeFSTarget, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    repo = lakefs.new_repo()
    branch = _branch(lakefs, repo)
    lakefs.stage(repo, "sbx", "scratch.csv")
    monkeypatch.setenv(DISCARD_UNCOMMITTED_ENV, value)
    offline = {**_guard(lakefs, branch), "connection": lakefs.connection(endpoint=_closed_port_endpoint())}

    for delete in (lambda: _delete_guard(offline), lambda: BranchProvider().delete(f"{repo}/sbx", branch)):
        with pytest.raises(errors.LakeFSValidationError) as failure:
            delete()
        assert f"{DISCARD_UNCOMMITTED_ENV}={value!r} is not understood" in str(failure.value)
    assert _pending(lakefs, repo, "sbx") == 1


def test_discard_opt_in_parsing() -> None:
    assert discard_uncommitted_opted_in({}) is False
    assert discard_uncommitted_opted_in({DISCARD_UNCOMMITTED_ENV: " True "}) is True
    assert discard_uncommitted_opted_in({DISCARD_UNCOMMITTED_ENV: "no"}) is False


# -- the rest of its life is offline ----------------------------------------------------------------


def test_create_read_and_update_make_no_request(lakefs: LakeFSTarget) -> None:
    # An endpoint nothing listens on: any request would fail.
    provider = BranchDeleteGuardProvider()
    inputs = {
        **lakefs.props(repository="lake", branch="sbx", sourceCommit="c" * 64),
        "connection": lakefs.connection(endpoint=_closed_port_endpoint()),
        "discardUncommitted": False,
    }

    created = provider.create(inputs)
    read = provider.read(created.id, dict(created.outs or {}))
    updated = provider.update(created.id, dict(created.outs or {}), {**inputs, "discardUncommitted": True})

    assert created.id == "lake/sbx"
    assert read.id == created.id  # refresh never drops the guard
    assert (updated.outs or {})["discardUncommitted"] is True


def test_a_replaced_branch_replaces_the_guard_deleting_the_old_one_first() -> None:
    # What the engine asks when the branch is replaced delete-before-replace: the guard's input
    # from the branch becomes unknown, and a replace answer makes the engine delete the guard first.
    olds = {"repository": "lake", "branch": "sbx", "sourceCommit": "a" * 64, "discardUncommitted": False}

    diff = BranchDeleteGuardProvider().diff("lake/sbx", olds, {**olds, "sourceCommit": rpc.UNKNOWN})

    assert diff.changes is True
    assert diff.replaces == ["sourceCommit"]
    assert diff.delete_before_replace is True


def test_flag_and_connection_changes_update_in_place() -> None:
    olds = {"repository": "lake", "branch": "sbx", "sourceCommit": "a" * 64, "discardUncommitted": False}
    news = {**olds, "discardUncommitted": True, "connection": {"endpoint": "http://other:8000"}}

    diff = BranchDeleteGuardProvider().diff("lake/sbx", olds, news)

    assert diff.changes is True
    assert diff.replaces == []
