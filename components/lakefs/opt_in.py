"""Destroy-time opt-ins: environment variables read by the lakeFS providers when they run.

`pulumi destroy` does not run the program, so stack config cannot change what a delete may do; the
engine starts the provider process with the CLI's environment, so a variable set for one command
reaches the delete that needs it, and only that command::

    PIPELINE_SANDBOX_DISCARD_UNCOMMITTED=1 pulumi destroy
    PIPELINE_SANDBOX_FORGET_UNREACHABLE_LAKEFS=1 pulumi destroy

Each is read before the first lakeFS call, so a mistyped value fails even while lakeFS answers.
Neither overrides an answer lakeFS gave: rejected credentials, 403s and server errors still fail.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from components.lakefs import errors

FORGET_UNREACHABLE_ENV = "PIPELINE_SANDBOX_FORGET_UNREACHABLE_LAKEFS"
"""Lets a delete forget a lakeFS branch whose lakeFS does not answer (see `forget`)."""
DISCARD_UNCOMMITTED_ENV = "PIPELINE_SANDBOX_DISCARD_UNCOMMITTED"
"""Lets a delete drop a branch's uncommitted changes, like `sandbox:discardUncommitted`."""

TRUTHY = ("1", "true", "yes")
"""Values (compared case-insensitively, surrounding spaces ignored) that turn an opt-in on."""
FALSY = ("", "0", "false", "no")
"""Values that leave it off, as does leaving the variable unset."""


def opted_in(name: str, effect: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment variable `name` opts in; any unrecognised value raises.

    Args:
        name: The variable, e.g. `DISCARD_UNCOMMITTED_ENV`.
        effect: What opting in does, for the error message ("to forget a lakeFS branch ...").
        environ: The environment to read; `os.environ` when None.
    """
    raw = (os.environ if environ is None else environ).get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in TRUTHY:
        return True
    if value in FALSY:
        return False
    raise errors.LakeFSValidationError(
        f"environment variable {name}={raw!r} is not understood: set it to {', '.join(TRUTHY)} (any "
        f"case) {effect}, or unset it ({', '.join(repr(v) for v in FALSY[1:])} also mean no)"
    )


def forget_unreachable_opted_in(environ: Mapping[str, str] | None = None) -> bool:
    """Whether `FORGET_UNREACHABLE_ENV` opts in; any unrecognised value raises."""
    return opted_in(FORGET_UNREACHABLE_ENV, "to forget a lakeFS branch whose lakeFS does not answer", environ)


def discard_uncommitted_opted_in(environ: Mapping[str, str] | None = None) -> bool:
    """Whether `DISCARD_UNCOMMITTED_ENV` opts in; any unrecognised value raises."""
    return opted_in(
        DISCARD_UNCOMMITTED_ENV, "to let the delete drop the branch's uncommitted changes", environ
    )
