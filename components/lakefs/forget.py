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

from collections.abc import Mapping
from typing import Any

import pulumi

from components.lakefs import errors
from components.lakefs.opt_in import FORGET_UNREACHABLE_ENV, forget_unreachable_opted_in

__all__ = ["FORGET_UNREACHABLE_ENV", "forget_or_refuse", "forget_unreachable_opted_in"]


def forget_or_refuse(
    endpoint: str,
    repository: str,
    branch: str,
    props: Mapping[str, Any],
    failure: errors.LakeFSUnreachableError,
    *,
    opted_in: bool,
    deferred: bool = False,
) -> None:
    """Log that the branch is forgotten when `opted_in`; otherwise raise a refusal saying what to do.

    Args:
        endpoint: lakeFS endpoint, printable.
        repository: Repository of the branch.
        branch: Branch being deleted.
        props: The branch's state (for its last known head).
        failure: Why lakeFS counts as unreachable.
        opted_in: Whether `FORGET_UNREACHABLE_ENV` opts in.
        deferred: The caller only checks ahead of the branch's own delete (the sandbox's delete guard),
            which is where the branch is forgotten and the warning belongs.
    """
    head = props.get("headCommit") or props.get("sourceCommit") or "unknown"
    no_answer = f"lakeFS at {endpoint} did not answer ({failure.reason}) after {failure.attempts} attempt(s)"
    if opted_in and deferred:
        pulumi.log.info(
            f"{no_answer}; {FORGET_UNREACHABLE_ENV} is set: the delete of lakeFS branch '{branch}' forgets it"
        )
        return
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
