"""`LakeFSSetup`: lakeFS's first-run setup, with an admin key pair the caller generated.

Usage (the Tier generates the pair with `pulumi_random` and passes it as secrets)::

    setup = LakeFSSetup(f"{name}-lakefs-setup", LakeFSSetupArgs(
        endpoint="http://127.0.0.1:8000", access_key_id=key_id.result, secret_access_key=secret.result),
        pulumi.ResourceOptions(parent=self, depends_on=[chart]))
    Repository(..., RepositoryArgs(connection=setup.admin_connection, ...))

Create never resets a server. It reads the (unauthenticated) setup state: a server not set up yet is
set up with the given username and key pair; a server already set up is only verified, by calling
`GET /user` with the given key pair: if lakeFS accepts it the server is adopted, if it answers 401 the
resource fails and says how to recover. Refresh verifies again (a server whose database was reset
reads as gone, so the next `pulumi up` sets it up again); update verifies or sets up at the new
inputs; delete only logs, because a server is never "un-set-up".

Right after the chart is installed lakeFS may not answer yet: every step is retried on connection
failures and on 502/503/504 (an ingress in front of a pod that is not ready) for up to `wait_seconds`,
then fails with how to make the endpoint reachable. Retrying the setup POST is safe: if the lost answer
had set the server up, the retry sees it initialized and verifies our own key pair.

The key pair travels only inside the `connection` property, which is a secret input and listed in
`additional_secret_outputs`; no log line or error message contains it. `setting_names` lets the
refusal name the stack settings the key pair comes from (e.g. `tier:lakefs.accessKeyId`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import lakefs_sdk
import pulumi
import pulumi.dynamic as dyn

from components.lakefs import errors
from components.lakefs.client import ConnectionSettings, Session
from components.lakefs.connection import LakeFSConnection, LakeFSResource
from components.lakefs.provider import (
    LakeFSProvider,
    Rule,
    changed_keys,
    is_str,
    setting_name,
    setting_names_ok,
)

T = TypeVar("T")

DEFAULT_WAIT_SECONDS = 300.0
MAX_BACKOFF_SECONDS = 10.0
_NOT_READY = (502, 503, 504)


def _wait_ok(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True)
class LakeFSSetupArgs:
    """Inputs of a `LakeFSSetup`.

    Args:
        endpoint: lakeFS base URL as reachable from where `pulumi up` runs.
        access_key_id: Admin access key id to set up lakeFS with (or to verify, if already set up).
        secret_access_key: Its secret access key; kept a Pulumi secret.
        admin_username: Id of the admin user that setup creates.
        wait_seconds: How long to keep retrying while the endpoint does not answer.
        timeout_seconds: Timeout of one HTTP call.
        setting_names: Stack settings that take an existing lakeFS's key pair, by input name
            ("accessKeyId", "secretAccessKey"); the refusal of a rejected pair names them.
    """

    endpoint: pulumi.Input[str]
    access_key_id: pulumi.Input[str]
    secret_access_key: pulumi.Input[str]
    admin_username: pulumi.Input[str] = "admin"
    wait_seconds: pulumi.Input[float] = DEFAULT_WAIT_SECONDS
    timeout_seconds: float = 10.0
    setting_names: Mapping[str, str] | None = None


class LakeFSSetupProvider(LakeFSProvider):
    """Sets up a fresh lakeFS, or verifies and adopts one already set up with the same key pair."""

    rules: ClassVar[tuple[Rule, ...]] = (
        ("adminUsername", is_str, "must be a non-empty user id"),
        ("waitSeconds", _wait_ok, "must be a number of seconds >= 0"),
        ("settingNames", setting_names_ok, "must map input names to stack setting names"),
    )
    defaults: ClassVar[Mapping[str, Any]] = {"adminUsername": "admin", "waitSeconds": DEFAULT_WAIT_SECONDS}

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        # Never a replacement: `update` verifies (or sets up) at the new inputs, nothing to delete.
        return dyn.DiffResult(changes=bool(changed_keys(olds, news)), replaces=[])

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        outs = _ensure(props)
        return dyn.CreateResult(f"lakefs-setup:{_settings(props).display_endpoint}", outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        return dyn.UpdateResult(_ensure(news))

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        settings = _settings(props)

        def verify(s: Session) -> str | None:
            if _initialized(s):
                return _verify(s, props, adopted=True)
            return None

        user = _until_answered(settings, _wait(props), verify)
        if user is None:
            pulumi.log.warn(
                f"lakeFS at {settings.display_endpoint} is no longer set up (was its database reset?); "
                "refresh drops it from the state and the next `pulumi up` sets it up again"
            )
            return dyn.ReadResult(None, {})
        return dyn.ReadResult(id_, {**props, "userId": user})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        pulumi.log.info(
            f"lakeFS at {_settings(props).display_endpoint} stays set up: first-run setup is never "
            "undone; to start over, delete the lakeFS database"
        )


def _settings(props: Mapping[str, Any]) -> ConnectionSettings:
    return ConnectionSettings.from_props(props)


def _wait(props: Mapping[str, Any]) -> float:
    return float(props.get("waitSeconds", DEFAULT_WAIT_SECONDS))


def _ensure(props: Mapping[str, Any]) -> dict[str, Any]:
    """Set up or verify; the outputs: inputs plus `userId` and `adopted`."""
    username = str(props.get("adminUsername") or "admin")
    settings = _settings(props)

    def attempt(s: Session) -> tuple[str, bool]:
        adopted = _initialized(s) or not _setup(s, username)
        return _verify(s, props, adopted), adopted

    user, adopted = _until_answered(settings, _wait(props), attempt)
    if adopted and user != username:
        pulumi.log.warn(
            f"lakeFS at {settings.display_endpoint} was already set up; the given key belongs to user "
            f"'{user}', not '{username}'"
        )
    return {**props, "userId": user, "adopted": adopted}


def _initialized(s: Session) -> bool:
    state = s.call(s.where("reading the setup state"), s.internal.get_setup_state, idempotent=True)
    return state.state != "not_initialized"


def _setup(s: Session, username: str) -> bool:
    """Run first-run setup with our key pair; False when someone else set the server up first."""
    settings = s.settings
    # parse_obj: the generated model's optional fields are aliased camelCase keyword arguments.
    key = {"access_key_id": settings.access_key_id, "secret_access_key": settings.secret_access_key}
    body = lakefs_sdk.Setup.parse_obj({"username": username, "key": key})
    try:
        s.call(s.where("running first-run setup"), s.internal.setup, body, idempotent=False)
    except errors.LakeFSConflictError:
        return False  # set up concurrently, or by our own earlier attempt whose answer was lost
    pulumi.log.info(f"lakeFS at {settings.display_endpoint} is set up: admin user '{username}' created")
    return True


def _verify(s: Session, props: Mapping[str, Any], adopted: bool) -> str:
    """The user id our key pair logs in as; an actionable error when lakeFS rejects the pair."""
    try:
        current = s.call(s.where("verifying the admin key"), s.auth.get_current_user, idempotent=True)
    except errors.LakeFSAuthenticationError:
        if not adopted:
            raise
        raise errors.LakeFSAuthenticationError(
            f"lakeFS at {s.settings.display_endpoint} is already set up with other credentials: it "
            "rejects (HTTP 401) the admin key pair this stack holds, and setup is never repeated. "
            "Either put that lakeFS's existing admin access key id and secret access key into this "
            f"stack's config as secrets{_how_to_set_key_pair(props)}, or, if its data is "
            "disposable, reset its database (drop the lakeFS Postgres database, or delete its local "
            "metadata volume) and run `pulumi up` again"
        ) from None
    return str(current.user.id)


def _how_to_set_key_pair(props: Mapping[str, Any]) -> str:
    """The commands that set the key pair, when the resource knows its settings; else a general hint."""
    names = [setting_name(props, key) for key in ("accessKeyId", "secretAccessKey")]
    if not all(names):
        return " (in place of the generated pair)"
    commands = " and ".join(
        f"`pulumi config set --secret{' --path' if '.' in str(name) else ''} {name} <{label}>`"
        for name, label in zip(names, ("access key id", "secret access key"), strict=True)
    )
    return f" (in place of the generated pair): {commands}"


def _until_answered(
    settings: ConnectionSettings,
    wait_seconds: float,
    attempt: Callable[[Session], T],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run `attempt` in a fresh session, retrying while lakeFS does not answer, up to `wait_seconds`."""
    deadline = clock() + wait_seconds
    delay = min(0.5, max(wait_seconds / 10, 0.01))
    while True:
        try:
            with Session(settings) as s:
                return attempt(s)
        except (errors.LakeFSUnreachableError, errors.LakeFSServerError) as exc:
            if isinstance(exc, errors.LakeFSServerError) and exc.status not in _NOT_READY:
                raise
            remaining = deadline - clock()
            if remaining <= 0:
                raise errors.LakeFSUnreachableError(_not_ready(settings, wait_seconds, exc)) from None
            pulumi.log.info(
                f"waiting for lakeFS at {settings.display_endpoint} to answer ({remaining:.0f}s left)"
            )
            sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)


def _not_ready(settings: ConnectionSettings, wait_seconds: float, last: errors.LakeFSError) -> str:
    return (
        f"lakeFS at {settings.display_endpoint} did not answer within {wait_seconds:g}s ({last}). "
        "If it was just installed, wait for its pod to be ready (`kubectl get pods`). The endpoint must "
        "be reachable from where `pulumi up` runs: expose lakeFS through an ingress and set "
        "`tier:lakefs.endpoint` to its URL, or run `kubectl -n <namespace> port-forward svc/<lakefs "
        "service> 8000:80` and use http://127.0.0.1:8000; then run `pulumi up` again"
    )


class LakeFSSetup(LakeFSResource, module="lakefs", name="Setup"):
    """lakeFS's first-run setup (or the verified adoption of a server already set up)."""

    user_id: pulumi.Output[str]
    """User id the admin key pair logs in as."""
    adopted: pulumi.Output[bool]
    """True when the server was already set up and only verified."""

    admin_connection: LakeFSConnection
    """The admin connection, known only once setup is done: use it for every other lakeFS resource."""

    def __init__(self, name: str, args: LakeFSSetupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Retries here are `_until_answered`'s; the session makes one attempt per call.
        connection = LakeFSConnection(
            args.endpoint, args.access_key_id, args.secret_access_key, args.timeout_seconds, max_retries=0
        )
        props = {
            "connection": connection.to_props(),
            "admin_username": args.admin_username,
            "wait_seconds": args.wait_seconds,
            "setting_names": dict(args.setting_names) if args.setting_names else None,
            "user_id": None,
            "adopted": None,
        }
        super().__init__(LakeFSSetupProvider(), name, props, opts)

        def after_setup(value: pulumi.Input[str]) -> pulumi.Output[str]:
            return pulumi.Output.all(self.user_id, value).apply(lambda values: values[1])

        self.admin_connection = LakeFSConnection(
            after_setup(args.endpoint),
            after_setup(args.access_key_id),
            pulumi.Output.secret(after_setup(args.secret_access_key)),
            args.timeout_seconds,
        )
