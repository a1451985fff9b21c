"""The opt-in that lets `pulumi destroy` forget a lakeFS branch whose lakeFS no longer answers.

A lakeFS that does not answer may only be down, and its branch may still hold uncommitted or
unarchived data, so by default deleting a `Branch` fails while lakeFS is unreachable. When the tier's
lakeFS is gone for good, the operator says so explicitly for one run::

    PIPELINE_SANDBOX_FORGET_UNREACHABLE_LAKEFS=1 pulumi destroy

The variable is read inside the provider process at delete time (the engine starts that process
with the CLI's environment; destroy does not run the program, so stack config could not carry it).
It forgives only "lakeFS did not answer" (connection refused, unknown host, timeouts after the
retries) while the branch is being looked up, never an answer: 401/403, 5xx and uncommitted changes
still fail, and so does a lakeFS that answered the lookup and stopped answering later in the delete
(it is not gone for good, and the branch it just showed may hold unchecked changes).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pulumi

from components.lakefs import errors

FORGET_UNREACHABLE_ENV = "PIPELINE_SANDBOX_FORGET_UNREACHABLE_LAKEFS"
"""Set to 1, true or yes (any case) to let delete forget a branch whose lakeFS does not answer."""

TRUTHY = ("1", "true", "yes")
"""Values (compared case-insensitively, surrounding spaces ignored) that turn the opt-in on."""
FALSY = ("", "0", "false", "no")
"""Values that leave it off, as does leaving the variable unset."""


def forget_unreachable_opted_in(environ: Mapping[str, str] | None = None) -> bool:
    """Whether `FORGET_UNREACHABLE_ENV` opts in; any unrecognised value raises.

    Args:
        environ: The environment to read; `os.environ` when None.
    """
    raw = (os.environ if environ is None else environ).get(FORGET_UNREACHABLE_ENV)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in TRUTHY:
        return True
    if value in FALSY:
        return False
    raise errors.LakeFSValidationError(
        f"environment variable {FORGET_UNREACHABLE_ENV}={raw!r} is not understood: set it to "
        f"{', '.join(TRUTHY)} (any case) to forget a lakeFS branch whose lakeFS does not answer, or "
        f"unset it ({', '.join(repr(v) for v in FALSY[1:])} also mean no)"
    )


def forget_or_refuse(
    endpoint: str,
    repository: str,
    branch: str,
    props: Mapping[str, Any],
    failure: errors.LakeFSUnreachableError,
    *,
    opted_in: bool,
) -> None:
    """Log that the branch is forgotten when `opted_in`; otherwise raise a refusal saying what to do.

    Args:
        endpoint: lakeFS endpoint, printable.
        repository: Repository of the branch.
        branch: Branch being deleted.
        props: The branch's state (for its last known head).
        failure: Why lakeFS counts as unreachable.
        opted_in: Whether `FORGET_UNREACHABLE_ENV` opts in.
    """
    head = props.get("headCommit") or props.get("sourceCommit") or "unknown"
    no_answer = f"lakeFS at {endpoint} did not answer ({failure.reason}) after {failure.attempts} attempt(s)"
    if opted_in:
        pulumi.log.warn(
            f"{no_answer}; {FORGET_UNREACHABLE_ENV} is set, so lakeFS branch '{branch}' in repository "
            f"'{repository}' is forgotten: removed from the Pulumi state WITHOUT being deleted, archived "
            f"or checked for uncommitted changes. Its last known head commit was {head}. If that lakeFS "
            f"ever comes back, the branch is still there: archive or delete it by hand (e.g. `lakectl "
            f"branch delete lakefs://{repository}/{branch}`)"
        )
        return
    refusal = errors.LakeFSUnreachableError(
        f"refusing to forget lakeFS branch '{branch}' in repository '{repository}': {no_answer}, and a "
        "lakeFS that is only down may still hold the branch's uncommitted or unarchived data. Either "
        "bring lakeFS back (running, and reachable from here at that URL) and run `pulumi destroy` "
        f"again; or, if this tier's lakeFS is gone for good, run `{FORGET_UNREACHABLE_ENV}=1 pulumi "
        f"destroy` to drop the branch from the state without deleting it (last known head commit: {head})"
    )
    refusal.reason, refusal.attempts = failure.reason, failure.attempts
    raise refusal
