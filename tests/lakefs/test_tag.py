"""Contract of `TagProvider`: create at a resolved ref, adopt or refuse, read, idempotent delete."""

from __future__ import annotations

import pytest

from components.lakefs import errors
from components.lakefs.tag import TagProvider
from tests.lakefs.conftest import LakeFSTarget

pytestmark = pytest.mark.lakefs


def test_create_read_delete(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    provider = TagProvider()
    created = provider.create(lakefs.props(repository=repo, tag="v1", ref="main"))
    assert created.id == f"{repo}/v1"
    assert created.outs is not None and created.outs["commitId"] == lakefs.head(repo, "main")
    assert lakefs.tags(repo) == {"v1": created.outs["commitId"]}

    read = provider.read(created.id, created.outs)
    assert read.outs is not None and read.outs["commitId"] == created.outs["commitId"]

    provider.delete(created.id, created.outs)
    assert lakefs.tags(repo) == {}
    assert provider.read(created.id, created.outs).id is None
    provider.delete(created.id, created.outs)  # already gone: fine


def test_existing_tag_is_adopted_at_same_commit_and_refused_elsewhere(lakefs: LakeFSTarget) -> None:
    repo = lakefs.new_repo()
    provider = TagProvider()
    first = provider.create(lakefs.props(repository=repo, tag="v1", ref="main"))
    again = provider.create(lakefs.props(repository=repo, tag="v1", ref="main"))
    assert again.outs == first.outs

    lakefs.stage(repo, "main", "x.txt")
    lakefs.commit(repo, "main")
    with pytest.raises(errors.LakeFSConflictError, match=rf"tag 'v1' already exists in repository '{repo}'"):
        provider.create(lakefs.props(repository=repo, tag="v1", ref="main"))


def test_changing_ref_replaces_the_tag_deleting_first() -> None:
    olds = {"repository": "lake", "tag": "v1", "ref": "main"}
    diff = TagProvider().diff("lake/v1", olds, {**olds, "ref": "dev"})
    assert diff.replaces == ["ref"] and diff.delete_before_replace is True


@pytest.mark.parametrize("tag", ["a/b", "v1..2", "x.lock", "sp ace", "@", "a~1"])
def test_check_rejects_invalid_tag_ids(tag: str) -> None:
    props = {
        "connection": {"endpoint": "http://lakefs:8000", "accessKeyId": "a", "secretAccessKey": "s"},
        "repository": "lake",
        "tag": tag,
        "ref": "main",
    }
    assert [f.property for f in TagProvider().check({}, props).failures] == ["tag"]
