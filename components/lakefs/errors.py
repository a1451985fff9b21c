"""Exceptions raised by the lakeFS dynamic providers.

A small tree mapped from HTTP status codes, plus the provider's own refusals. Every message names the
endpoint and the repository/branch involved and says what to do next; none contains a credential.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Where:
    """What a call was about, for error messages.

    Args:
        endpoint: lakeFS endpoint, without any userinfo.
        action: What we were doing, e.g. "deleting branch".
        repository: Repository involved, if any.
        ref: Branch, tag or commit involved, if any.
    """

    endpoint: str
    action: str
    repository: str | None = None
    ref: str | None = None

    def describe(self) -> str:
        parts = [self.action]
        if self.ref is not None:
            parts.append(f"'{self.ref}'")
        if self.repository is not None:
            parts.append(f"in repository '{self.repository}'")
        return " ".join(parts) + f" at lakeFS {self.endpoint}"


class LakeFSError(Exception):
    """Base of every error the lakeFS providers raise."""

    status: int | None = None
    detail: str = ""
    """lakeFS's own message (the error body's `message`), when lakeFS answered with one."""


class LakeFSUnreachableError(LakeFSError):
    """The endpoint did not answer (refused, dropped or timed out), after any retries."""

    reason: str = "no answer"
    """Short cause, e.g. "connection refused or host unknown" or "timed out"."""
    attempts: int = 1
    """How many times the call was tried."""


class LakeFSAuthenticationError(LakeFSError):
    """HTTP 401: the access key pair was rejected."""

    status = 401


class LakeFSPermissionError(LakeFSError):
    """HTTP 403: not allowed, e.g. a protected branch or the default branch."""

    status = 403


class LakeFSNotFoundError(LakeFSError):
    """HTTP 404: repository, branch, tag or commit does not exist."""

    status = 404


class LakeFSConflictError(LakeFSError):
    """HTTP 409, or an existing object that is not safe to adopt."""

    status = 409


class LakeFSPreconditionFailedError(LakeFSError):
    """HTTP 412: someone else changed the object between our read and our write."""

    status = 412


class LakeFSValidationError(LakeFSError):
    """HTTP 400 or an invalid input caught before any call."""

    status = 400


class LakeFSServerError(LakeFSError):
    """HTTP 5xx (after retries, for idempotent calls)."""


class StorageNamespaceInUseError(LakeFSValidationError):
    """A repository was to be created at a storage namespace that already holds lakeFS data."""


class UnprotectedDefaultBranchError(LakeFSError):
    """A sandbox branch was to be created in a repository whose default branch is not protected."""


class UncommittedChangesError(LakeFSError):
    """A branch to delete has uncommitted changes and discarding them was not allowed."""


class ImmutablePropertyError(LakeFSError):
    """An input that would need a destructive replacement changed."""


_HINTS: dict[int, tuple[type[LakeFSError], str]] = {
    400: (LakeFSValidationError, "lakeFS rejected the request as invalid"),
    401: (
        LakeFSAuthenticationError,
        "lakeFS rejected the credentials; check accessKeyId and secretAccessKey of the connection",
    ),
    403: (
        LakeFSPermissionError,
        "lakeFS refused the operation (protected branch, default branch, read-only repository or "
        "missing permission); lift the protection rule or use another branch",
    ),
    404: (
        LakeFSNotFoundError,
        "not found; check that the repository and ref exist on this lakeFS",
    ),
    409: (LakeFSConflictError, "it already exists or conflicts with existing state"),
    412: (
        LakeFSPreconditionFailedError,
        "it was changed concurrently by someone else; run the update again",
    ),
}


def server_message(body: bytes | str | None) -> str:
    """Return the `message` of a lakeFS error body, or "" when there is none."""
    if not body:
        return ""
    try:
        parsed = json.loads(body)
    except (ValueError, TypeError):
        return ""
    message = parsed.get("message") if isinstance(parsed, dict) else None
    return str(message) if message else ""


def from_status(
    status: int | None, body: bytes | str | None, where: Where, credentials_hint: str | None = None
) -> LakeFSError:
    """Map an HTTP error answer to one exception with an actionable message.

    Args:
        status: The HTTP status, if there was one.
        body: The answer's body.
        where: What the call was about.
        credentials_hint: Where the key pair comes from and what to do, said instead of the generic
            advice when lakeFS rejects it (401).
    """
    detail = server_message(body)
    suffix = f" (lakeFS said: {detail})" if detail else ""
    if status is not None and status in _HINTS:
        cls, hint = _HINTS[status]
        if status == 401 and credentials_hint:
            hint = f"lakeFS rejected the credentials; {credentials_hint}"
        error: LakeFSError = cls(f"{where.describe()} failed with HTTP {status}: {hint}{suffix}")
    else:
        error = LakeFSServerError(
            f"{where.describe()} failed with HTTP {status}: lakeFS had a server-side error; "
            f"retry later or check the lakeFS server logs{suffix}"
        )
        error.status = status
    error.detail = detail
    return error


def unreachable(where: Where, reason: str, attempts: int) -> LakeFSUnreachableError:
    """Build the error for a call that never got an HTTP answer."""
    error = LakeFSUnreachableError(
        f"{where.describe()} failed: the endpoint did not answer ({reason}) after {attempts} attempt(s); "
        "check the endpoint URL, that lakeFS is running and reachable from here, and the timeout"
    )
    error.reason, error.attempts = reason, attempts
    return error
