"""The secret access key never shows: not in errors, logs, output or the pickled providers."""

from __future__ import annotations

import base64
import logging
import pickle
import socket
import traceback
from typing import Any

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from components.lakefs import (
    BranchProtectionProvider,
    BranchProvider,
    RepositoryProvider,
    TagProvider,
    errors,
)
from components.lakefs.client import ConnectionSettings
from tests.lakefs.conftest import LakeFSTarget
from tests.secrecy import SecretText, assert_not_shown

pytestmark = pytest.mark.lakefs

WRONG_SECRET = SecretText("wrong-Secret-Value-42")


def _everything(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc)


def test_wrong_credentials_error_hides_the_secret(lakefs: LakeFSTarget, caplog: Any, capsys: Any) -> None:
    caplog.set_level(logging.DEBUG)
    repo = lakefs.new_repo()
    props = {
        **lakefs.props(repository=repo, branch="main"),
        "connection": lakefs.connection(secretAccessKey=WRONG_SECRET),
    }

    with pytest.raises(errors.LakeFSAuthenticationError) as failure:
        BranchProvider().read(f"{repo}/main", props)

    text = _everything(failure.value) + caplog.text + "".join(capsys.readouterr())
    assert "HTTP 401" in text
    assert_not_shown(text, WRONG_SECRET, lakefs.secret_access_key)


def test_unreachable_error_hides_the_secret(lakefs: LakeFSTarget, caplog: Any, capsys: Any) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://user:{WRONG_SECRET}@127.0.0.1:{port}"
    props = {**lakefs.props(tag="v1"), "connection": lakefs.connection(endpoint=endpoint)}

    with pytest.raises(errors.LakeFSUnreachableError) as failure:
        TagProvider().read("lake/v1", props)

    text = _everything(failure.value) + caplog.text + "".join(capsys.readouterr())
    assert f"http://127.0.0.1:{port}" in text
    assert_not_shown(text, WRONG_SECRET, lakefs.secret_access_key)


def test_a_whole_lifecycle_logs_no_secret(lakefs: LakeFSTarget, caplog: Any, capsys: Any) -> None:
    caplog.set_level(logging.DEBUG)
    repo = lakefs.new_repo()
    branch = BranchProvider().create(lakefs.props(repository=repo, branch="sbx", sourceRef="main"))
    lakefs.stage(repo, "sbx", "x.txt")
    with pytest.raises(errors.UncommittedChangesError) as failure:
        BranchProvider().delete(branch.id, branch.outs or {})
    BranchProvider().delete(branch.id, {**(branch.outs or {}), "discardUncommitted": True})

    text = _everything(failure.value) + caplog.text + "".join(capsys.readouterr())
    assert "archived lakeFS branch 'sbx'" in text
    assert_not_shown(text, lakefs.secret_access_key)


def test_settings_repr_hides_the_secret() -> None:
    settings = ConnectionSettings("http://lakefs:8000", "AKIA", WRONG_SECRET)
    assert_not_shown(repr(settings), WRONG_SECRET)


@pytest.mark.parametrize(
    "provider", [RepositoryProvider(), BranchProvider(), BranchProtectionProvider(), TagProvider()]
)
def test_providers_survive_pickle_and_dill(provider: Any, lakefs: LakeFSTarget) -> None:
    # Exactly what pulumi.dynamic.Resource does, and what the provider host undoes.
    raw = base64.b64decode(serialize_provider(provider))
    restored = dill.loads(raw)
    assert type(restored) is type(provider)
    assert type(pickle.loads(pickle.dumps(provider))) is type(provider)
    assert vars(restored) == {}  # no client, socket or credential inside

    # The restored provider still reaches lakeFS: reading a missing object reports it gone.
    missing = lakefs.props(name="no-such-repo", repository="no-such-repo", branch="b", tag="t", patterns=[])
    assert restored.read("no-such-repo/b", missing).id is None


def test_a_failing_assertion_on_provider_outputs_shows_no_secret(lakefs: LakeFSTarget) -> None:
    # pytest prints every value of a failing assertion; a provider's outputs carry the connection.
    repo = lakefs.new_repo()
    created = BranchProvider().create(lakefs.props(repository=repo, branch="sbx", sourceRef="main"))

    with pytest.raises(AssertionError) as failed:
        assert (created.outs or {})["connection"] == {}, "deliberately failing"
    with pytest.raises(AssertionError) as failed_on_a_helper:
        assert lakefs.head(repo, "sbx") is None, "deliberately failing"

    shown = str(failed.value) + str(failed_on_a_helper.value)
    assert "secretAccessKey" in shown and "LakeFSTarget(" in shown  # pytest did print both
    assert_not_shown(shown + repr(lakefs), lakefs.secret_access_key, where="pytest's assertion output")
