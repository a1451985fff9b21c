"""Contract of `RepositoryProvider`: create, adopt or refuse, no silent replacement, guarded delete."""

from __future__ import annotations

from typing import Any

import pytest

from components.lakefs import errors
from components.lakefs.client import ConnectionSettings, Session
from components.lakefs.repository import RepositoryProvider
from tests.lakefs.conftest import LakeFSTarget
from tests.lakefs_fake import FakeLakeFSServer

pytestmark = pytest.mark.lakefs


def _inputs(lakefs: LakeFSTarget, name: str, **extra: Any) -> dict[str, Any]:
    checked = RepositoryProvider().check(
        {}, lakefs.props(name=name, storageNamespace=lakefs.namespace(name), **extra)
    )
    assert checked.failures == []
    return checked.inputs


def _create(lakefs: LakeFSTarget, **extra: Any) -> Any:
    name = lakefs.unique()
    lakefs.created.append(name)
    return RepositoryProvider().create(_inputs(lakefs, name, **extra))


def test_create_makes_the_repository_with_its_default_branch(lakefs: LakeFSTarget) -> None:
    created = _create(lakefs, defaultBranch="trunk")
    assert created.outs["defaultBranch"] == "trunk"
    assert isinstance(created.outs["creationDate"], int)
    assert lakefs.head(created.id, "trunk") is not None


def test_existing_repository_with_same_namespace_is_adopted(lakefs: LakeFSTarget, capsys: Any) -> None:
    repo = lakefs.new_repo()
    created = RepositoryProvider().create(_inputs(lakefs, repo))
    assert created.id == repo
    assert f"adopted existing lakeFS repository '{repo}'" in capsys.readouterr().err


def test_existing_repository_with_other_namespace_is_refused(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    inputs = {**_inputs(lakefs, repo), "storageNamespace": lakefs.namespace("elsewhere")}
    with pytest.raises(errors.LakeFSConflictError, match=rf"repository '{repo}'.*storageNamespace"):
        RepositoryProvider().create(inputs)


@pytest.mark.parametrize("key", ["name", "storageNamespace", "defaultBranch"])
def test_changing_identity_is_rejected_by_check_with_instructions(key: str) -> None:
    olds = {
        "connection": {"endpoint": "http://lakefs:8000", "accessKeyId": "a", "secretAccessKey": "s"},
        "name": "lake",
        "storageNamespace": "s3://bucket/lake",
        "defaultBranch": "main",
    }
    news = {
        **olds,
        key: {"name": "lake2", "storageNamespace": "s3://other/lake", "defaultBranch": "dev"}[key],
    }

    failures = RepositoryProvider().check(olds, news).failures

    assert [f.property for f in failures] == [key]
    assert "cannot change" in failures[0].reason and "new Repository resource" in failures[0].reason


def test_diff_refuses_identity_change_instead_of_replacing() -> None:
    olds = {"name": "lake", "storageNamespace": "s3://bucket/lake", "defaultBranch": "main"}
    with pytest.raises(errors.ImmutablePropertyError, match="replacing it would delete"):
        RepositoryProvider().diff("lake", olds, {**olds, "storageNamespace": "s3://b2/lake"})


def test_force_destroy_updates_in_place() -> None:
    olds = {
        "name": "lake",
        "storageNamespace": "s3://bucket/lake",
        "defaultBranch": "main",
        "forceDestroy": False,
    }
    diff = RepositoryProvider().diff("lake", olds, {**olds, "forceDestroy": True})
    assert diff.changes is True and diff.replaces == []


def test_check_rejects_bad_values() -> None:
    props = {
        "connection": {"endpoint": "http://lakefs:8000", "accessKeyId": "a", "secretAccessKey": "s"},
        "name": "X",
        "storageNamespace": "bucket/lake",
    }
    failures = {f.property for f in RepositoryProvider().check({}, props).failures}
    assert failures == {"name", "storageNamespace"}


def test_read_reports_state_and_gone(lakefs: LakeFSTarget) -> None:
    created = _create(lakefs)
    provider = RepositoryProvider()
    read = provider.read(created.id, created.outs)
    assert read.id == created.id and read.outs is not None
    assert read.outs["storageNamespace"] == created.outs["storageNamespace"]

    with lakefs.session() as s:
        s.repositories.delete_repository(created.id)
    gone = provider.read(created.id, created.outs)
    assert gone.id is None and gone.outs == {}


def test_delete_leaves_the_repository_unless_force_destroy(lakefs: LakeFSTarget, capsys: Any) -> None:
    created = _create(lakefs)
    provider = RepositoryProvider()

    provider.delete(created.id, created.outs)
    assert provider.read(created.id, created.outs).id == created.id
    assert "left in place" in capsys.readouterr().err

    provider.delete(created.id, {**created.outs, "forceDestroy": True})
    assert provider.read(created.id, created.outs).id is None
    provider.delete(created.id, {**created.outs, "forceDestroy": True})  # already gone: fine


def _warm_cache(lakefs: LakeFSTarget, repo: str) -> None:
    """Read the repository, so that a real lakeFS has it in its repository cache when it is deleted."""
    with lakefs.session() as s:
        s.repositories.get_repository(repo)


def test_a_repository_deleted_moments_ago_is_not_adopted(lakefs: LakeFSTarget, capsys: Any) -> None:
    repo = lakefs.new_repo()
    _warm_cache(lakefs, repo)
    lakefs.delete_repo(repo)  # lakeFS keeps answering for it a few seconds more
    namespace = lakefs.namespace(f"{repo}-again")
    props = {**_inputs(lakefs, repo), "storageNamespace": namespace}

    created = RepositoryProvider().create(props)

    assert (created.outs or {})["storageNamespace"] == namespace
    assert lakefs.head(repo, "main") is not None  # a real repository, not the cached ghost
    assert "adopted" not in capsys.readouterr().err


def test_a_storage_namespace_is_never_reused(lakefs: LakeFSTarget) -> None:
    # A tier destroyed (repository deleted with forceDestroy) and deployed again at the same place.
    repo = lakefs.new_repo()
    _warm_cache(lakefs, repo)
    lakefs.delete_repo(repo)
    namespace = lakefs.namespace(repo)

    with pytest.raises(errors.StorageNamespaceInUseError) as failure:
        RepositoryProvider().create(_inputs(lakefs, repo))

    message = str(failure.value)
    assert f"creating repository '{repo}' at lakeFS {lakefs.endpoint} failed" in message
    assert f"its storage namespace '{namespace}' already holds lakeFS data" in message
    assert "never accepts a storage namespace twice" in message
    assert "set the Repository's storage_namespace to a location that holds no lakeFS data" in message
    assert f"(e.g. '{namespace}-2')" in message
    assert lakefs.head(repo, "main") is None


def test_refusals_name_the_stack_settings_the_inputs_come_from(lakefs: LakeFSTarget) -> None:
    settings = {
        "name": "tier:lakefs.repository",
        "storageNamespace": "tier:lakefs.storageNamespace",
        "defaultBranch": "tier:lakefs.defaultBranch",
    }
    repo = lakefs.new_repo()
    inputs = {**_inputs(lakefs, repo, settingNames=settings), "storageNamespace": lakefs.namespace("other")}

    with pytest.raises(errors.LakeFSConflictError) as failure:
        RepositoryProvider().create(inputs)

    message = str(failure.value)
    assert f"set `tier:lakefs.storageNamespace` to '{lakefs.namespace(repo)}'" in message
    assert "otherwise set `tier:lakefs.repository` to a repository name that does not exist yet" in message
    olds = {**inputs, "storageNamespace": lakefs.namespace(repo)}
    (failure_,) = RepositoryProvider().check(olds, inputs).failures
    assert failure_.reason.endswith(f"Set `tier:lakefs.storageNamespace` back to '{lakefs.namespace(repo)}'")


def test_check_rejects_malformed_setting_names() -> None:
    props = {
        "connection": {"endpoint": "http://lakefs:8000", "accessKeyId": "a", "secretAccessKey": "s"},
        "name": "lake",
        "storageNamespace": "s3://bucket/lake",
        "settingNames": {"storageNamespace": ""},
    }
    assert [f.property for f in RepositoryProvider().check({}, props).failures] == ["settingNames"]


@pytest.mark.fault_injection
def test_a_repository_lakefs_never_forgets_fails_with_what_to_do(
    lakefs: LakeFSTarget, fake: FakeLakeFSServer
) -> None:
    repo = lakefs.new_repo()
    fake.state.delete_lag_seconds = 3600.0  # e.g. a bare repository awaiting refs-restore
    lakefs.delete_repo(repo)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    settings = ConnectionSettings.from_props({"connection": lakefs.connection()})
    with (
        Session(settings, sleep=sleep, clock=lambda: now[0]) as s,
        pytest.raises(errors.LakeFSConflictError) as failure,
    ):
        s.wait_until_forgotten(repo, timeout_seconds=5.0)

    message = str(failure.value)
    assert f"after 5s lakeFS still answers for repository '{repo}'" in message
    assert "default branch 'main' does not exist" in message and "refs-restore" in message
    assert now[0] == pytest.approx(5.0)
