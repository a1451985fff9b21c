"""Contract of `RepositoryProvider`: create, adopt or refuse, no silent replacement, guarded delete."""

from __future__ import annotations

from typing import Any

import pytest

from components.lakefs import errors
from components.lakefs.repository import RepositoryProvider
from tests.lakefs.conftest import LakeFSTarget

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
