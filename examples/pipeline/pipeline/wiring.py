"""Reading the wiring contract: the names of the variables, and the two schedules/sensors flags.

The sandbox (and the tier) set these on the code server and on every run pod; see the README section
"What pipeline code receives in a sandbox (wiring contract)". Read them only through this module, so a
renamed variable is one edit here, and never hard-code what they stand for (``main``, a repository).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

LAKEFS_ENDPOINT = "LAKEFS_ENDPOINT"
LAKEFS_REPOSITORY = "LAKEFS_REPOSITORY"
LAKEFS_BRANCH = "LAKEFS_BRANCH"
"""The only ref this code writes to: the sandbox's own branch (production's in the tier)."""
LAKEFS_SOURCE_COMMIT = "LAKEFS_SOURCE_COMMIT"
LAKEFS_ACCESS_KEY_ID = "LAKEFS_ACCESS_KEY_ID"
LAKEFS_SECRET_ACCESS_KEY = "LAKEFS_SECRET_ACCESS_KEY"  # noqa: S105 - a variable name, not a secret
SCHEDULES_ENABLED = "PIPELINE_SANDBOX_SCHEDULES_ENABLED"
SENSORS_ENABLED = "PIPELINE_SANDBOX_SENSORS_ENABLED"

_ACCEPTED = {"true": True, "false": False}


def enabled(variable: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether a ``"true"``/``"false"`` flag of the contract is on.

    Unset means off: a Dagster started by hand (``dagster dev``) starts nothing on its own, like a
    sandbox. Any other value is refused, so a typo cannot start production schedules in a sandbox.

    Args:
        variable: The flag's environment variable.
        environ: Where to read it; the process environment by default.

    Raises:
        ValueError: The value is neither ``true`` nor ``false``.
    """
    value = (os.environ if environ is None else environ).get(variable, "false")
    if value not in _ACCEPTED:
        raise ValueError(f"{variable}={value!r}: expected 'true' or 'false' (unset means 'false')")
    return _ACCEPTED[value]


def schedule_status(environ: Mapping[str, str] | None = None) -> dg.DefaultScheduleStatus:
    """``default_status`` for every schedule: RUNNING only where the flag turns schedules on."""
    on = enabled(SCHEDULES_ENABLED, environ)
    return dg.DefaultScheduleStatus.RUNNING if on else dg.DefaultScheduleStatus.STOPPED


def sensor_status(environ: Mapping[str, str] | None = None) -> dg.DefaultSensorStatus:
    """``default_status`` for every sensor: RUNNING only where the flag turns sensors on."""
    on = enabled(SENSORS_ENABLED, environ)
    return dg.DefaultSensorStatus.RUNNING if on else dg.DefaultSensorStatus.STOPPED
