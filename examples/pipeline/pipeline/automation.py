"""A schedule and a sensor whose ``default_status`` follows the contract's two flags.

Dagster has no switch that keeps instigators off in a sandbox: a fresh instance starts none, unless
code declares ``default_status=RUNNING``. So never write RUNNING here; ask ``wiring`` (the tier sets
both flags to ``"true"``, a sandbox to ``sandbox:schedules``/``sandbox:sensors``, default ``"false"``).
"""

# No `from __future__ import annotations`: Dagster reads the context and resource hints at runtime.

from collections.abc import Iterator

import dagster as dg

from pipeline import wiring
from pipeline.assets import daily_revenue, revenue_summary
from pipeline.lakefs_branch import LakeFSBranch

EVERYTHING = dg.AssetSelection.assets(daily_revenue, revenue_summary)


def daily_schedule() -> dg.ScheduleDefinition:
    """Rebuilds everything every morning, where schedules are on."""
    return dg.ScheduleDefinition(
        name="daily_revenue_schedule",
        cron_schedule="0 6 * * *",
        target=EVERYTHING,
        default_status=wiring.schedule_status(),
    )


def new_commit_sensor() -> dg.SensorDefinition:
    """Rebuilds everything when the branch gets a new commit, where sensors are on."""

    @dg.sensor(
        name="new_commit_sensor",
        target=EVERYTHING,
        minimum_interval_seconds=300,
        default_status=wiring.sensor_status(),
    )
    def new_commit(context: dg.SensorEvaluationContext, lakefs: LakeFSBranch) -> Iterator[dg.RunRequest]:
        head = lakefs.head()
        if head != context.cursor:
            context.update_cursor(head)
            # One run per commit: the run key makes a re-evaluation at the same head a no-op.
            yield dg.RunRequest(run_key=head)

    return new_commit
