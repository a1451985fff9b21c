"""Two assets: daily revenue derived from the committed orders, and a summary derived from that.

Both read at a commit (the branch head when the step starts) and write by paths *relative to the
branch*: the same code writes to a sandbox's branch in a sandbox and to production's in the tier,
because only ``LAKEFS_BRANCH`` says which. The lakeFS branch is the storage between assets, so a
run that materializes only the summary still finds its input.
"""

# No `from __future__ import annotations`: Dagster reads the context and resource hints at runtime.

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal, InvalidOperation

import dagster as dg

from pipeline.lakefs_branch import LakeFSBranch

ORDERS = "raw/orders.csv"
"""Committed input, as production data has it (``order_id,day,amount``)."""
DAILY_REVENUE = "derived/daily_revenue.csv"
REVENUE_SUMMARY = "derived/revenue_summary.json"


def _daily_totals(orders_csv: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line, row in enumerate(csv.DictReader(io.StringIO(orders_csv)), start=2):
        try:
            totals[row["day"]] += Decimal(row["amount"])
        except (KeyError, InvalidOperation) as error:
            raise ValueError(f"{ORDERS} line {line}: expected columns day and a numeric amount") from error
    return dict(sorted(totals.items()))


@dg.asset(description=f"Revenue per day, from {ORDERS}; written to {DAILY_REVENUE} on the run's branch.")
def daily_revenue(context: dg.AssetExecutionContext, lakefs: LakeFSBranch) -> dg.MaterializeResult:
    input_commit = lakefs.head()
    totals = _daily_totals(lakefs.read(input_commit, ORDERS).decode())
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["day", "revenue"])
    writer.writerows(totals.items())
    lakefs.write(DAILY_REVENUE, table.getvalue().encode())
    commit = lakefs.commit(
        f"daily_revenue from {ORDERS}", {"input_commit": input_commit, "dagster_run_id": context.run.run_id}
    )
    return dg.MaterializeResult(
        metadata={
            "lakefs_branch": lakefs.branch,
            "lakefs_commit": commit,
            "input_commit": input_commit,
            "source_commit": lakefs.source_commit,
            "days": len(totals),
        }
    )


@dg.asset(deps=[daily_revenue], description=f"Total and best day; written to {REVENUE_SUMMARY}.")
def revenue_summary(context: dg.AssetExecutionContext, lakefs: LakeFSBranch) -> dg.MaterializeResult:
    input_commit = lakefs.head()
    rows = list(csv.DictReader(io.StringIO(lakefs.read(input_commit, DAILY_REVENUE).decode())))
    revenue = {row["day"]: Decimal(row["revenue"]) for row in rows}
    summary = {
        "days": len(revenue),
        "total": str(sum(revenue.values(), Decimal(0))),
        "best_day": max(revenue, key=lambda day: revenue[day]) if revenue else None,
    }
    lakefs.write(REVENUE_SUMMARY, json.dumps(summary, indent=2).encode())
    commit = lakefs.commit(
        f"revenue_summary from {DAILY_REVENUE}",
        {"input_commit": input_commit, "dagster_run_id": context.run.run_id},
    )
    return dg.MaterializeResult(metadata={"lakefs_branch": lakefs.branch, "lakefs_commit": commit, **summary})
