"""The code location: ``dagster api grpc --module-name pipeline.definitions`` loads ``defs`` from here.

The schedules/sensors flags are read when the module loads, which is when the code server starts:
the sandbox rolls its code server whenever its environment changes.
"""

from __future__ import annotations

import dagster as dg

from pipeline.assets import daily_revenue, revenue_summary
from pipeline.automation import daily_schedule, new_commit_sensor
from pipeline.lakefs_branch import branch_from_environment

defs = dg.Definitions(
    assets=[daily_revenue, revenue_summary],
    schedules=[daily_schedule()],
    sensors=[new_commit_sensor()],
    resources={"lakefs": branch_from_environment()},
)
