"""`LakeFSSetupProvider`: first-run setup, verified adoption, refusal of foreign credentials, waiting.

The adopt/refuse cases run against any lakeFS, including a real one that is already set up. The cases
that need a server that is *not* set up yet use their own fake (`fresh` fixture) and are skipped
against a real lakeFS: setup can run only once per server and these tests never reset a database.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import time
import traceback
from collections.abc import Iterator
from typing import Any

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

from components.lakefs import errors
from components.lakefs.client import ConnectionSettings
from components.lakefs.setup import MAX_BACKOFF_SECONDS, LakeFSSetupProvider, _until_answered
from tests.lakefs.conftest import LakeFSTarget
from tests.lakefs_fake import FakeLakeFSServer
from tests.secrecy import SecretText, assert_not_shown

pytestmark = pytest.mark.lakefs

NEW_KEY_ID = "AKIAGENERATEDBYTIER"
NEW_SECRET = SecretText("generated-Secret/by+pulumi-random-42")
WRONG_SECRET = SecretText("wrong-Secret-Value-42")


def _props(endpoint: str, key_id: str, secret: str, wait: float = 2.0, **extra: Any) -> dict[str, Any]:
    connection = {
        "endpoint": endpoint,
        "accessKeyId": key_id,
        "secretAccessKey": secret,
        "timeoutSeconds": 0.5,
        "maxRetries": 0,
        "backoffSeconds": 0.01,
    }
    return {"connection": connection, "adminUsername": "admin", "waitSeconds": wait, **extra}


def _everything(exc: BaseException | None, caplog: Any, capsys: Any) -> str:
    text = caplog.text + "".join(capsys.readouterr())
    if exc is not None:
        text += "".join(traceback.format_exception(exc)) + repr(exc)
    return text


@pytest.fixture
def fresh() -> Iterator[FakeLakeFSServer]:
    """A fake lakeFS straight from install: not set up; every authenticated call answers 401."""
    if os.environ.get("LAKEFS_ENDPOINT"):
        pytest.skip("needs a lakeFS that is not set up yet; only the fake can provide one")
    server = FakeLakeFSServer(initialized=False).start()
    yield server
    server.stop()


# -- any lakeFS (already set up) ------------------------------------------------------------------
def test_already_set_up_with_our_key_is_adopted(lakefs: LakeFSTarget) -> None:
    props = _props(lakefs.endpoint, lakefs.access_key_id, lakefs.secret_access_key)

    created = LakeFSSetupProvider().create(props)

    outs = created.outs or {}
    assert outs["adopted"] is True and outs["userId"]
    assert created.id == f"lakefs-setup:{lakefs.endpoint}"
    read = LakeFSSetupProvider().read(created.id, outs)
    assert read.id == created.id and (read.outs or {})["userId"] == outs["userId"]


def test_already_set_up_with_other_credentials_is_refused(
    lakefs: LakeFSTarget, caplog: Any, capsys: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    props = _props(lakefs.endpoint, lakefs.access_key_id, WRONG_SECRET)

    with pytest.raises(errors.LakeFSAuthenticationError) as failure:
        LakeFSSetupProvider().create(props)

    message = str(failure.value)
    assert f"lakeFS at {lakefs.endpoint} is already set up with other credentials" in message
    assert "into this stack's config as secrets" in message and "reset its database" in message
    text = _everything(failure.value, caplog, capsys)
    assert_not_shown(text, WRONG_SECRET, lakefs.secret_access_key)


def test_the_refusal_names_the_settings_that_take_an_existing_key_pair(lakefs: LakeFSTarget) -> None:
    settings = {"accessKeyId": "tier:lakefs.accessKeyId", "secretAccessKey": "tier:lakefs.secretAccessKey"}
    props = _props(lakefs.endpoint, lakefs.access_key_id, WRONG_SECRET, settingNames=settings)

    with pytest.raises(errors.LakeFSAuthenticationError) as failure:
        LakeFSSetupProvider().create(props)

    message = str(failure.value)
    assert "`pulumi config set --secret --path tier:lakefs.accessKeyId <access key id>`" in message
    assert "`pulumi config set --secret --path tier:lakefs.secretAccessKey <secret access key>`" in message


def test_refresh_with_rejected_credentials_fails_with_the_advice(lakefs: LakeFSTarget) -> None:
    props = _props(lakefs.endpoint, lakefs.access_key_id, WRONG_SECRET, userId="admin", adopted=True)

    with pytest.raises(errors.LakeFSAuthenticationError, match="reset its database"):
        LakeFSSetupProvider().read(f"lakefs-setup:{lakefs.endpoint}", props)


def test_delete_leaves_the_server_set_up(lakefs: LakeFSTarget) -> None:
    props = _props(lakefs.endpoint, lakefs.access_key_id, lakefs.secret_access_key)
    created = LakeFSSetupProvider().create(props)

    LakeFSSetupProvider().delete(created.id, created.outs or {})

    assert LakeFSSetupProvider().create(props).outs["adopted"] is True  # type: ignore[index]


def test_provider_survives_dill_holding_nothing(lakefs: LakeFSTarget) -> None:
    restored = dill.loads(base64.b64decode(serialize_provider(LakeFSSetupProvider())))
    assert vars(restored) == {}  # no client, socket or credential inside

    props = _props(lakefs.endpoint, lakefs.access_key_id, lakefs.secret_access_key)
    assert (restored.create(props).outs or {})["adopted"] is True


def test_check_reports_bad_inputs_and_accepts_preview_unknowns() -> None:
    provider = LakeFSSetupProvider()
    bad = provider.check({}, _props("ftp://x", "", "s", adminUsername="", waitSeconds=-1))
    assert {f.property for f in bad.failures} == {
        "connection.endpoint",
        "connection.accessKeyId",
        "adminUsername",
        "waitSeconds",
    }
    # pulumi_random's results are unknown during the first preview.
    unknown = provider.check({}, _props("http://lakefs:8000", rpc.UNKNOWN, rpc.UNKNOWN))
    assert unknown.failures == []
    defaults = provider.check({}, {"connection": _props("http://l:8000", "k", "s")["connection"]})
    assert defaults.inputs["adminUsername"] == "admin" and defaults.inputs["waitSeconds"] == 300.0


def test_diff_never_replaces() -> None:
    olds = _props("http://a:8000", "k", "s", userId="admin", adopted=False)
    diff = LakeFSSetupProvider().diff("id", olds, _props("http://b:8000", "k", "s"))
    assert diff.changes is True and diff.replaces == []


# -- a lakeFS that is not set up yet (fake only) --------------------------------------------------
def test_sets_up_a_fresh_server_with_the_given_key(fresh: FakeLakeFSServer) -> None:
    props = _props(fresh.endpoint, NEW_KEY_ID, NEW_SECRET)

    created = LakeFSSetupProvider().create(props)

    assert (created.outs or {})["adopted"] is False and (created.outs or {})["userId"] == "admin"
    assert fresh.state.credentials == (NEW_KEY_ID, NEW_SECRET)
    posts = [path for method, path in fresh.faults.requests if method == "POST"]
    assert posts == ["/api/v1/setup_lakefs"]
    # Running it again (a second `pulumi up` after the state was lost) adopts instead of failing.
    again = LakeFSSetupProvider().create(props)
    assert (again.outs or {})["adopted"] is True


def test_someone_else_setting_it_up_first_is_refused(fresh: FakeLakeFSServer) -> None:
    other = {"username": "admin", "key": {"access_key_id": "AKIAOTHER", "secret_access_key": "other"}}
    fresh.faults.before("POST", lambda: fresh.state.setup(other))

    with pytest.raises(errors.LakeFSAuthenticationError, match="already set up with other credentials"):
        LakeFSSetupProvider().create(_props(fresh.endpoint, NEW_KEY_ID, NEW_SECRET))


def test_a_lost_setup_answer_is_retried_safely(fresh: FakeLakeFSServer) -> None:
    # The POST is processed, then its answer is lost: the retry sees "initialized" and verifies.
    mine = {"username": "admin", "key": {"access_key_id": NEW_KEY_ID, "secret_access_key": NEW_SECRET}}
    fresh.faults.before("POST", lambda: fresh.state.setup(mine))
    fresh.faults.drop(1, method="POST")

    created = LakeFSSetupProvider().create(_props(fresh.endpoint, NEW_KEY_ID, NEW_SECRET))

    assert (created.outs or {})["adopted"] is True
    assert fresh.state.credentials == (NEW_KEY_ID, NEW_SECRET)


def test_refresh_of_a_reset_server_reads_as_gone(fresh: FakeLakeFSServer) -> None:
    props = _props(fresh.endpoint, NEW_KEY_ID, NEW_SECRET, userId="admin", adopted=False)
    assert LakeFSSetupProvider().read("lakefs-setup:x", props).id is None


def test_waits_until_the_endpoint_answers(fresh: FakeLakeFSServer) -> None:
    fresh.faults.drop(2, method="GET")
    fresh.faults.fail(1, status=503, method="GET")

    created = LakeFSSetupProvider().create(_props(fresh.endpoint, NEW_KEY_ID, NEW_SECRET, wait=1.0))

    assert (created.outs or {})["adopted"] is False


def test_a_server_error_is_not_waited_on(fresh: FakeLakeFSServer) -> None:
    fresh.faults.fail(1, status=500, method="GET")
    start = time.monotonic()

    with pytest.raises(errors.LakeFSServerError, match="HTTP 500"):
        LakeFSSetupProvider().create(_props(fresh.endpoint, NEW_KEY_ID, NEW_SECRET, wait=5.0))

    assert time.monotonic() - start < 1.0


def test_unreachable_endpoint_gives_up_with_how_to_reach_it(caplog: Any, capsys: Any) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.monotonic()

    with pytest.raises(errors.LakeFSUnreachableError) as failure:
        LakeFSSetupProvider().create(_props(f"http://127.0.0.1:{port}", NEW_KEY_ID, NEW_SECRET, wait=0.3))

    assert time.monotonic() - start >= 0.3
    message = str(failure.value)
    assert f"lakeFS at http://127.0.0.1:{port} did not answer within 0.3s" in message
    assert "port-forward" in message and "tier:lakefs.endpoint" in message
    assert_not_shown(_everything(failure.value, caplog, capsys), NEW_SECRET)


def test_the_default_wait_backs_off_to_a_cap_and_stops_at_the_deadline() -> None:
    # A fake clock: the five-minute default without waiting five minutes.
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    def never_answers(_: Any) -> None:
        raise errors.LakeFSUnreachableError("no answer")

    settings = ConnectionSettings("http://lakefs:8000", "AKIA", NEW_SECRET, max_retries=0)
    with pytest.raises(errors.LakeFSUnreachableError, match="did not answer within 300s"):
        _until_answered(settings, 300.0, never_answers, sleep=sleep, clock=lambda: now[0])

    assert sleeps[:6] == [0.5, 1.0, 2.0, 4.0, 8.0, MAX_BACKOFF_SECONDS]
    assert max(sleeps) == MAX_BACKOFF_SECONDS and sum(sleeps) == pytest.approx(300.0)


def test_a_whole_lifecycle_logs_no_secret(fresh: FakeLakeFSServer, caplog: Any, capsys: Any) -> None:
    caplog.set_level(logging.DEBUG)
    provider = LakeFSSetupProvider()
    created = provider.create(_props(fresh.endpoint, NEW_KEY_ID, NEW_SECRET))
    provider.read(created.id, created.outs or {})
    provider.update(created.id, created.outs or {}, _props(fresh.endpoint, NEW_KEY_ID, NEW_SECRET, wait=1))
    provider.delete(created.id, created.outs or {})

    text = _everything(None, caplog, capsys)
    assert "is set up: admin user 'admin' created" in text and "stays set up" in text
    assert_not_shown(text, NEW_SECRET)
