"""Short-lived lakeFS API sessions for the dynamic providers.

Providers are pickled by Pulumi, so they hold nothing but code: every provider method builds a
`Session` from the connection inputs it was handed, uses it, and closes it. A `Session` applies a
timeout to every call, retries idempotent calls (GET, DELETE) with exponential backoff on 5xx and
on connection failures (never on 4xx, never a POST/PUT), and maps failures to `errors`.

lakeFS 1.84 answers repository reads from a cache that a delete does not clear: for 5 to 7 s after
`DELETE /repositories/{repo}` it still answers 200, and refuses to create one of that name (409).
Branch reads skip that cache and answer 404 at once. Every question "does this repository exist?"
therefore goes through `lookup_repository`, which also reads the repository's default branch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import lakefs_sdk
import urllib3

from components.lakefs import errors

T = TypeVar("T")

API_PATH = "/api/v1"
FORGET_WAIT_SECONDS = 20.0
"""How long to wait for lakeFS's cache to forget a deleted repository (5 s plus jitter; 7 s seen)."""
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class ConnectionSettings:
    """Connection inputs as the providers see them (plain values, resolved by the engine).

    Args:
        endpoint: lakeFS base URL, e.g. "http://lakefs:8000" ("/api/v1" is added when missing).
        access_key_id: lakeFS access key id.
        secret_access_key: lakeFS secret access key; never printed (excluded from repr).
        timeout_seconds: Total timeout of one HTTP call.
        max_retries: Retries of an idempotent call after the first attempt.
        backoff_seconds: First retry delay; doubles on each retry.
    """

    endpoint: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    timeout_seconds: float = 10.0
    max_retries: int = 3
    backoff_seconds: float = 0.5

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> ConnectionSettings:
        """Build settings from a provider's `connection` property (camelCase keys)."""
        conn = props.get("connection") or {}
        return cls(
            endpoint=str(conn.get("endpoint", "")),
            access_key_id=str(conn.get("accessKeyId", "")),
            secret_access_key=str(conn.get("secretAccessKey", "")),
            timeout_seconds=float(conn.get("timeoutSeconds", cls.timeout_seconds)),
            max_retries=int(conn.get("maxRetries", cls.max_retries)),
            backoff_seconds=float(conn.get("backoffSeconds", cls.backoff_seconds)),
        )

    @property
    def host(self) -> str:
        """The SDK host: the endpoint with the API base path."""
        base = self.endpoint.rstrip("/")
        return base if base.endswith(API_PATH) else base + API_PATH

    @property
    def display_endpoint(self) -> str:
        """The endpoint safe to print: any user:password@ part removed."""
        parts = urlsplit(self.endpoint)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class Session:
    """One lakeFS API client for the duration of one provider method (a context manager)."""

    def __init__(
        self,
        settings: ConnectionSettings,
        sleep: Callable[[float], None] = time.sleep,
        credentials_hint: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Build the client (no request yet).

        Args:
            settings: Where lakeFS is and how to log in.
            sleep: Waits between retries (a fake in tests).
            credentials_hint: Where the key pair comes from and what to do when lakeFS rejects it;
                replaces the generic advice in the error of a 401.
            clock: Monotonic seconds, for waits with a deadline (a fake in tests).
        """
        self.settings = settings
        self._sleep = sleep
        self._clock = clock
        self._credentials_hint = credentials_hint
        configuration = lakefs_sdk.Configuration(
            host=settings.host, username=settings.access_key_id, password=settings.secret_access_key
        )
        # Our own retry loop decides what is safe to retry; urllib3's would also retry POSTs.
        configuration.retries = False  # type: ignore[assignment]  # typed None, urllib3 takes bool
        self._client = lakefs_sdk.ApiClient(configuration)
        self.repositories = lakefs_sdk.RepositoriesApi(self._client)
        self.branches = lakefs_sdk.BranchesApi(self._client)
        self.tags = lakefs_sdk.TagsApi(self._client)
        self.refs = lakefs_sdk.RefsApi(self._client)
        self.internal = lakefs_sdk.InternalApi(self._client)
        self.auth = lakefs_sdk.AuthApi(self._client)

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._client.close()

    def where(self, action: str, repository: str | None = None, ref: str | None = None) -> errors.Where:
        return errors.Where(self.settings.display_endpoint, action, repository, ref)

    def call(
        self, where: errors.Where, fn: Callable[..., T], *args: Any, idempotent: bool, **kwargs: Any
    ) -> T:
        """Call one SDK method with the timeout, retry policy and error mapping.

        Args:
            where: What the call is about, for error messages.
            fn: Bound SDK method.
            *args: Its positional arguments.
            idempotent: True for GET and DELETE: retried on 5xx and connection failures.
            **kwargs: Its keyword arguments.
        """
        attempts = 1 + (self.settings.max_retries if idempotent else 0)
        delay = self.settings.backoff_seconds
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                return fn(*args, _request_timeout=self.settings.timeout_seconds, **kwargs)
            except lakefs_sdk.ApiException as exc:
                status = exc.status if isinstance(exc.status, int) else None
                if last or status is None or status < 500:
                    raise errors.from_status(status, exc.body, where, self._credentials_hint) from None
            except urllib3.exceptions.HTTPError as exc:
                if last:
                    raise errors.unreachable(where, _reason(exc), attempts) from None
            self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def resolve_commit(self, repository: str, ref: str) -> str:
        """The commit id a branch, tag or commit id points at (HTTP 404 if there is none)."""
        where = self.where("resolving ref", repository, ref)
        log = self.call(where, self.refs.log_commits, repository, ref, amount=1, idempotent=True)
        if not log.results:
            raise errors.LakeFSNotFoundError(f"{where.describe()} failed: the ref has no commit")
        return log.results[0].id

    def branch_head(self, repository: str, branch: str) -> str | None:
        """The head commit of a branch, or None when the branch or its repository is gone."""
        return self.lookup_branch(repository, branch).head

    def lookup_branch(self, repository: str, branch: str) -> BranchLookup:
        """A branch's head commit, or which of branch and repository lakeFS says is gone.

        `getBranch` answers 404 both for a missing branch and for a missing repository, and so does
        anything at a wrong URL (a proxy path, another service). So a 404 is only taken as "gone"
        once lakeFS itself has confirmed it: the repository is live (only the branch is gone), or
        `getRepository` answers but the repository's default branch does not (deleted moments ago;
        see `lookup_repository`), or `getRepository` answers 404 while `getCurrentUser` answers 200
        (a lakeFS that accepts our key pair has no such repository). Anything else raises.
        """
        where = self.where("reading branch", repository, branch)
        try:
            ref = self.call(where, self.branches.get_branch, repository, branch, idempotent=True)
            return BranchLookup(head=ref.commit_id)
        except errors.LakeFSNotFoundError:
            pass
        found = self.lookup_repository(repository)
        if found.live:
            return BranchLookup(head=None, missing="branch")
        if found.record is None:
            self._confirm_lakefs_api(repository, branch)
        return BranchLookup(head=None, missing="repository")

    def lookup_repository(self, name: str) -> RepositoryLookup:
        """A repository's record, and whether it is live, verified beyond lakeFS's cached read.

        lakeFS never lets a repository's default branch be deleted, so a repository whose record
        answers while its default branch answers 404 is one that was deleted moments ago (still in
        the repository cache), or a bare repository awaiting `refs-restore`: not usable either way.
        """
        where = self.where("reading repository", name)
        try:
            record = self.call(where, self.repositories.get_repository, name, idempotent=True)
        except errors.LakeFSNotFoundError:
            return RepositoryLookup(record=None, live=False)
        where = self.where("reading the default branch", name, record.default_branch)
        try:
            self.call(where, self.branches.get_branch, name, record.default_branch, idempotent=True)
        except errors.LakeFSNotFoundError:
            return RepositoryLookup(record=record, live=False)
        return RepositoryLookup(record=record, live=True)

    def wait_until_forgotten(self, name: str, timeout_seconds: float = FORGET_WAIT_SECONDS) -> None:
        """Wait until `getRepository` answers 404 for a repository that is not live.

        Raises:
            LakeFSConflictError: lakeFS still answers for it after `timeout_seconds`.
        """
        where = self.where(f"waiting for lakeFS to forget deleted repository '{name}'")
        deadline = self._clock() + timeout_seconds
        while True:
            try:
                record = self.call(where, self.repositories.get_repository, name, idempotent=True)
            except errors.LakeFSNotFoundError:
                return
            if self._clock() >= deadline:
                raise errors.LakeFSConflictError(
                    f"{where.describe()} failed: after {timeout_seconds:g}s lakeFS still answers for "
                    f"repository '{name}' while its default branch '{record.default_branch}' does not "
                    "exist. It is either still being deleted, or a bare repository awaiting `lakectl "
                    "refs-restore`: wait a minute and run `pulumi up` again, finish the restore, or "
                    f"delete it (`lakectl repo delete lakefs://{name}`) if it holds nothing of value"
                )
            self._sleep(POLL_SECONDS)

    def _confirm_lakefs_api(self, repository: str, branch: str) -> None:
        """Raise unless the endpoint is a lakeFS API that knows our key pair (so its 404s are real)."""
        where = self.where("checking the lakeFS API (GET /user)")
        try:
            self.call(where, self.auth.get_current_user, idempotent=True)
        except errors.LakeFSNotFoundError:
            raise errors.LakeFSNotFoundError(
                f"reading branch '{branch}' in repository '{repository}' at lakeFS "
                f"{self.settings.display_endpoint} failed: the branch, the repository and even the "
                f"lakeFS API's own GET {API_PATH}/user answer HTTP 404, so this URL does not look like a "
                "lakeFS server; check the connection endpoint (the lakeFS base URL, e.g. "
                f"http://lakefs:8000; '{API_PATH}' is added) and any proxy in front of it"
            ) from None

    def uncommitted(self, repository: str, branch: str, limit: int = 10_000, sample: int = 5) -> Uncommitted:
        """Count a branch's uncommitted changes, paging through `diff_branch` up to `limit`."""
        where = self.where("listing uncommitted changes of branch", repository, branch)
        count, after, capped = 0, "", False
        paths: list[str] = []
        while True:
            page = self.call(
                where,
                self.branches.diff_branch,
                repository,
                branch,
                after=after,
                amount=1000,
                idempotent=True,
            )
            count += len(page.results)
            paths.extend(d.path for d in page.results[: max(0, sample - len(paths))])
            if not page.pagination.has_more:
                break
            if count >= limit:
                capped = True
                break
            after = page.pagination.next_offset
        return Uncommitted(count, paths, capped)


@dataclass(frozen=True)
class BranchLookup:
    """What lakeFS says about a branch.

    Args:
        head: Its head commit; None when it does not exist.
        missing: When `head` is None, what is gone: the branch alone, or its whole repository.
    """

    head: str | None
    missing: Literal["branch", "repository"] | None = None


@dataclass(frozen=True)
class RepositoryLookup:
    """What lakeFS says about a repository.

    Args:
        record: What `getRepository` answered; None for 404.
        live: True when its default branch answers too: the repository really exists.
    """

    record: lakefs_sdk.Repository | None
    live: bool


@dataclass(frozen=True)
class Uncommitted:
    """Uncommitted changes of a branch: how many (capped at `limit`) and the first few paths."""

    count: int
    sample: list[str]
    capped: bool


def _reason(exc: urllib3.exceptions.HTTPError) -> str:
    """A short cause without the URL's query or any header."""
    inner = getattr(exc, "reason", None) or exc
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2.x: test it first.
    if isinstance(inner, urllib3.exceptions.NewConnectionError):
        return "connection refused or host unknown"
    if isinstance(inner, urllib3.exceptions.TimeoutError):
        return "timed out"
    if isinstance(inner, urllib3.exceptions.ProtocolError):
        return "connection dropped"
    return type(inner).__name__
