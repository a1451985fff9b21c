"""``status``: one sandbox in full, and what to do next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline_sandbox_cli.inventory import Sandbox
from pipeline_sandbox_cli.lakefs_view import DiffSummary
from pipeline_sandbox_cli.render import NONE, state, update_json, update_text, when

BRANCH_GONE = "the lakeFS branch is gone"


@dataclass(frozen=True)
class StatusReport:
    """One sandbox, its lakeFS diff summary (or why there is none), and its next steps."""

    sandbox: Sandbox
    diff: DiffSummary | None
    repository: str | None
    lakefs_error: str | None
    now: datetime

    def next_steps(self) -> list[str]:
        return next_steps(self.sandbox, self.diff, self.repository, self.now, self.lakefs_error)

    def to_json(self) -> dict[str, Any]:
        diff = self.diff.to_json() if self.diff else None
        return {
            "stack": self.sandbox.stack,
            "outputs": dict(self.sandbox.outputs),
            "state": state(self.sandbox),
            "expired": self.sandbox.expired(self.now),
            "lastUpdate": update_json(self.sandbox.last_update),
            "lakefs": {"repository": self.repository, **diff} if diff else None,
            "lakefsError": self.lakefs_error,
            "next": self.next_steps(),
        }

    def text(self) -> str:
        return status_text(self)


def next_steps(
    sandbox: Sandbox,
    diff: DiffSummary | None,
    repository: str | None,
    now: datetime,
    lakefs_error: str | None,
) -> list[str]:
    """What the user may want to do now, most pressing first."""
    stack, where = sandbox.stack, f"lakefs://{repository or '<repository>'}/{sandbox.lakefs_branch}"
    if not sandbox.deployed:
        return [f"nothing deployed: `pipeline-sandbox up --stack {stack}`, or `pulumi stack rm {stack}`"]
    steps = []
    if sandbox.last_update and sandbox.last_update.result == "failed":
        steps.append(
            f"the last {sandbox.last_update.kind} failed: see `pulumi stack history --stack {stack}`"
        )
    if lakefs_error == BRANCH_GONE:
        steps.append(
            f"the lakeFS branch is gone: `pulumi refresh --stack {stack}`, then `pipeline-sandbox up`"
        )
    if diff and diff.uncommitted.total:
        steps.append(
            f'commit the uncommitted changes (`lakectl commit {where} -m "<message>"`): a destroy '
            "refuses while they are uncommitted"
        )
    if sandbox.expired(now):
        steps.append(
            f"expired: reclaim it (`pipeline-sandbox down --stack {stack}`) or extend it "
            f"(`pulumi config set sandbox:ttl 14d --stack {stack}` and `pulumi up --stack {stack}`)"
        )
    if sandbox.paused:
        steps.append(f"paused: `pipeline-sandbox resume {stack}` brings its Dagster back")
    else:
        steps.append(f"open Dagster: `{sandbox.text('dagsterUrl') or NONE}`, then http://localhost:3000")
    steps.append(f"done with it: `pipeline-sandbox down --stack {stack}` (archives, then deletes)")
    return steps


def status_text(report: StatusReport) -> str:
    sandbox, diff, repository, now = report.sandbox, report.diff, report.repository, report.now
    expired = " (EXPIRED)" if sandbox.expired(now) else ""
    source = sandbox.text("sourceCommit")
    lines = [
        ("stack", sandbox.stack),
        ("git branch", sandbox.git_branch or NONE),
        ("owner", sandbox.text("owner") or NONE),
        ("state", state(sandbox)),
        ("created", when(sandbox.created_at)),
        ("expires", when(sandbox.expires_at) + expired),
        ("last update", update_text(sandbox.last_update)),
        ("namespace", sandbox.text("namespace") or NONE),
        ("lakeFS branch", f"lakefs://{repository or '<repository>'}/{sandbox.lakefs_branch or NONE}"),
        ("snapshot", f"{source or NONE} (from {sandbox.text('sourceRef') or NONE})"),
    ]
    text = [f"{label:<15}{value}" for label, value in lines]
    text.append("changes since the snapshot:")
    if diff is None:
        text.append(f"  unknown: {report.lakefs_error}")
    else:
        text.append(f"  committed     {diff.committed}")
        sample = f"  (e.g. {', '.join(diff.uncommitted.sample)})" if diff.uncommitted.sample else ""
        text.append(f"  uncommitted   {diff.uncommitted}{sample}")
    text.append("next:")
    text.extend(f"  - {step}" for step in report.next_steps())
    return "\n".join(text)
