"""The subcommands. Each returns its exit code; results go to ``out``, progress to ``err``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from components.config import SandboxConfig
from components.lakefs.errors import LakeFSError
from pipeline_sandbox_cli import gc, operations, render
from pipeline_sandbox_cli.backend import BackendError, StackBackend
from pipeline_sandbox_cli.facts import LakeFSFacts, gather, tier_accesses
from pipeline_sandbox_cli.gitremote import GitRemoteError, remote_branches
from pipeline_sandbox_cli.inventory import Inventory, Sandbox, read_inventory
from pipeline_sandbox_cli.lakefs_view import (
    DiffSummary,
    LakeFSAccess,
    OrphanBranch,
    diff_summary,
    orphan_branches,
)
from pipeline_sandbox_cli.operations import Outcome
from pipeline_sandbox_cli.resolve import (
    current_branch,
    existing_sandbox,
    find_branch_stack,
    stack_name_for,
    target_stack,
)
from pipeline_sandbox_cli.status import BRANCH_GONE, StatusReport
from pipeline_sandbox_cli.usage import EXIT_FAILED, EXIT_OK, UsageError


@dataclass(frozen=True)
class Context:
    """What every subcommand works with."""

    backend: StackBackend
    project_dir: Path
    default_tier: str
    parallel: int
    out: Callable[[str], None]
    err: Callable[[str], None]
    now: Callable[[], datetime]

    def json(self, document: Any) -> None:
        self.out(json.dumps(document, indent=2, sort_keys=True))

    def engine_line(self, line: str) -> None:
        self.err(line.rstrip("\n"))


def run(command: str, args: argparse.Namespace, context: Context) -> int:
    handlers: dict[str, Callable[[argparse.Namespace, Context], int]] = {
        "list": list_sandboxes,
        "status": status,
        "gc": collect_garbage,
        "up": up,
        "down": down,
        "pause": pause_or_resume,
        "resume": pause_or_resume,
    }
    return handlers[command](args, context)


def _inventory(context: Context) -> Inventory:
    inventory = read_inventory(context.backend, parallel=context.parallel, progress=None)
    for stack, error in sorted(inventory.unreadable.items()):
        context.err(f"warning: stack {stack!r} could not be read (left alone): {error}")
    return inventory


def _warn_lakefs(context: Context, facts: LakeFSFacts) -> None:
    for tier, reason in sorted(facts.unavailable.items()):
        context.err(f"warning: no lakeFS facts for sandboxes of tier {tier!r}: {reason}")


def list_sandboxes(args: argparse.Namespace, context: Context) -> int:
    context.err("reading stacks ...")
    inventory = _inventory(context)
    facts = gather(context.backend, inventory, context.default_tier, context.parallel)
    _warn_lakefs(context, facts)
    now = context.now()
    if args.json:
        context.json(render.list_json(inventory, facts, now, context.default_tier))
    else:
        context.out(render.list_table(inventory, facts, now))
    return EXIT_FAILED if inventory.unreadable else EXIT_OK


def status(args: argparse.Namespace, context: Context) -> int:
    stack = target_stack(context.backend, context.project_dir, args.stack, args.branch, context.parallel)
    summary = next(s for s in context.backend.list_stacks() if s.name == stack)
    inventory = read_inventory(context.backend, parallel=1, stacks=[summary])
    if stack in inventory.unreadable:
        raise BackendError(f"stack {stack!r} could not be read: {inventory.unreadable[stack]}")
    sandbox = inventory.find(stack)
    if sandbox is None:  # only if it became a tier stack between the two reads
        raise UsageError(f"{stack!r} is a tier stack; pipeline-sandbox only manages sandbox stacks")
    diff, error, repository = _diff(context, sandbox)
    report = StatusReport(sandbox, diff, repository, error, context.now())
    if args.json:
        context.json(report.to_json())
    else:
        context.out(report.text())
    return EXIT_OK


def _diff(context: Context, sandbox: Sandbox) -> tuple[DiffSummary | None, str | None, str | None]:
    """The sandbox's diff summary, or why there is none, and its repository."""
    if not sandbox.deployed or not sandbox.text("sourceCommit"):
        return None, "nothing deployed", None
    facts = LakeFSFacts()
    tier = sandbox.tier(context.default_tier)
    tier_accesses(context.backend, {tier}, facts)
    access = facts.accesses.get(tier)
    if access is None:
        return None, facts.unavailable[tier], None
    try:
        with access.session() as s:
            if s.lookup_branch(access.repository, str(sandbox.lakefs_branch)).head is None:
                return None, BRANCH_GONE, access.repository
            return (
                diff_summary(
                    s, access.repository, str(sandbox.lakefs_branch), str(sandbox.text("sourceCommit"))
                ),
                None,
                access.repository,
            )
    except LakeFSError as exc:
        return None, str(exc), access.repository


def collect_garbage(args: argparse.Namespace, context: Context) -> int:
    if args.skip_branch_check:
        heads = None
    else:
        try:
            heads = remote_branches(context.project_dir, args.remote)
        except GitRemoteError as exc:
            context.err(
                f"pipeline-sandbox: {exc}; nothing was changed (--skip-branch-check reclaims "
                "only expired sandboxes)"
            )
            return EXIT_FAILED
    context.err("reading stacks ...")
    inventory = _inventory(context)
    facts = gather(context.backend, inventory, context.default_tier, context.parallel)
    _warn_lakefs(context, facts)
    now = context.now()
    items = gc.plan(inventory, now, heads, pause_idle=args.pause_idle, remote=args.remote)
    orphans = _orphans(context, inventory, facts)
    held = [
        Outcome(orphan.name, "kept", reason)
        for _, orphan in orphans
        if (reason := gc.orphan_hold(orphan, now, args.orphan_min_age))
    ]
    orphan_outcomes: list[Outcome] = list(held)
    if args.yes:
        runner = gc.Runner(
            context.backend,
            context.project_dir,
            args.jobs,
            context.err,
            stream=args.verbose,
            repositories={
                s.stack: repo
                for s in inventory.deployed()
                if (repo := facts.repository_of(s, context.default_tier))
            },
            # A branch lakeFS says is gone has nothing uncommitted (BranchFacts counts 0).
            uncommitted={stack: branch.uncommitted.value for stack, branch in facts.branches.items()},
        )
        items = runner.run(items, remove_stacks=args.remove_stacks)
        if args.orphans:
            kept = {o.target for o in held}
            candidates = [(a, o) for a, o in orphans if o.name not in kept]
            orphan_outcomes += _reclaim_orphans(context, candidates)
    _report_gc(args, context, items, orphans, orphan_outcomes)
    failed = [i for i in items if i.outcome and not i.outcome.ok] + [o for o in orphan_outcomes if not o.ok]
    return EXIT_FAILED if failed or inventory.unreadable else EXIT_OK


def _owned_branches(inventory: Inventory) -> set[str]:
    """lakeFS branches some sandbox stack owns: the one its outputs name, or its own name."""
    owned = {s.lakefs_branch for s in inventory.deployed() if s.lakefs_branch}
    # A stack named like a branch (the naming convention) owns it even before it has outputs.
    return owned | {s.stack for s in inventory.sandboxes}


def _orphans(
    context: Context, inventory: Inventory, facts: LakeFSFacts
) -> list[tuple[LakeFSAccess, OrphanBranch]]:
    owned = _owned_branches(inventory)
    found: list[tuple[LakeFSAccess, OrphanBranch]] = []
    tiers = set(facts.accesses) | {context.default_tier}
    tier_accesses(context.backend, tiers - set(facts.accesses) - set(facts.unavailable), facts)
    # `prod` and `organization/<project>/prod` name one tier: list each lakeFS repository once.
    unique = {(a.endpoint, a.repository): (tier, a) for tier, a in sorted(facts.accesses.items())}
    for tier, access in unique.values():
        try:
            with access.session() as s:
                found.extend((access, orphan) for orphan in orphan_branches(s, access.repository, owned))
        except LakeFSError as exc:
            context.err(f"warning: could not list lakeFS branches of tier {tier!r}: {exc}")
    return found


def _reclaim_orphans(context: Context, orphans: list[tuple[LakeFSAccess, OrphanBranch]]) -> list[Outcome]:
    """Reclaims the orphans that are still orphans now.

    The stacks are read again first: a sandbox whose first ``pulumi up`` started after gc's first read
    has a stack by now (a stack exists before its branch does), so its branch is skipped here.
    """
    if not orphans:
        return []
    context.err("reading stacks again before reclaiming orphan lakeFS branches ...")
    inventory = read_inventory(context.backend, parallel=context.parallel)
    blockers = sorted(inventory.unreadable) + inventory.busy
    if blockers:
        context.err(
            f"orphan lakeFS branches left alone: stack(s) {', '.join(blockers)} could not be read or are "
            "updating, and may own one of them; run gc again later"
        )
        return []
    owned = _owned_branches(inventory)
    now_owned = [
        Outcome(o.name, "kept", "a sandbox stack owns it now") for _, o in orphans if o.name in owned
    ]
    still = [(a, o) for a, o in orphans if o.name not in owned and o.facts.head is not None]
    return now_owned + gc.reclaim_orphans(still, context.err)


def _report_gc(
    args: argparse.Namespace,
    context: Context,
    items: list[gc.GcItem],
    orphans: list[tuple[LakeFSAccess, OrphanBranch]],
    outcomes: list[Outcome],
) -> None:
    by_branch = {o.target: o for o in outcomes}
    if args.json:
        context.json(
            {
                "dryRun": not args.yes,
                "sandboxes": [item.to_json() for item in items],
                "orphans": [
                    {
                        **orphan.to_json(),
                        "repository": access.repository,
                        "outcome": by_branch[orphan.name].to_json() if orphan.name in by_branch else None,
                    }
                    for access, orphan in orphans
                ],
            }
        )
        return
    context.out(render.gc_text(items, orphans, by_branch, dry_run=not args.yes, now=context.now()))


def _validated(field: str, flag: str, value: str | None) -> None:
    """Checks a sandbox setting with the program's own config model, before anything is touched."""
    if value is None:
        return
    try:
        SandboxConfig.model_validate({field: value})
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise UsageError(f"{flag}: {reason}") from None


def up(args: argparse.Namespace, context: Context) -> int:
    for field, flag in (("branch", "--branch"), ("owner", "--owner"), ("image", "--image"), ("ttl", "--ttl")):
        _validated(field, flag, getattr(args, field))
    branch = current_branch(context.project_dir, args.branch)
    stack = (
        args.stack or find_branch_stack(context.backend, branch, context.parallel) or stack_name_for(branch)
    )
    if context.backend.exists(stack):
        existing_sandbox(context.backend, stack)
    context.err(f"stack {stack}: deploying the sandbox of git branch {branch!r}")
    context.backend.create_or_select(stack)
    settings = {
        "sandbox:branch": args.branch,
        "sandbox:owner": args.owner,
        "sandbox:image": args.image,
        "sandbox:ttl": args.ttl,
    }
    for key, value in settings.items():
        if value is not None:
            context.backend.set_config(stack, key, value)
    outputs = context.backend.up(stack, context.engine_line)
    if args.json:
        context.json({"stack": stack, "outputs": outputs})
    else:
        context.out(render.table(("OUTPUT", "VALUE"), [[k, str(v)] for k, v in sorted(outputs.items())]))
    return EXIT_OK


def down(args: argparse.Namespace, context: Context) -> int:
    stack = target_stack(context.backend, context.project_dir, args.stack, args.branch, context.parallel)
    outputs = context.backend.outputs(stack)
    sandbox_tier = str(outputs.get("tier") or context.default_tier)
    facts = LakeFSFacts()
    tier_accesses(context.backend, {sandbox_tier}, facts)
    repository = facts.accesses[sandbox_tier].repository if sandbox_tier in facts.accesses else None
    context.err(f"stack {stack}: destroying (delete guard first; uncommitted lakeFS changes refuse)")
    outcome = operations.destroy(
        context.backend, stack, context.engine_line,
        lakefs_branch=outputs.get("lakefsBranch"), repository=repository,
    )  # fmt: skip
    if outcome.status == "destroyed" and args.remove_stack:
        outcome = operations.remove(context.backend, stack)
    return _report_outcome(args, context, outcome)


def pause_or_resume(args: argparse.Namespace, context: Context) -> int:
    stack = target_stack(context.backend, context.project_dir, args.stack, args.branch, context.parallel)
    deployed = context.backend.outputs(stack)
    paused = args.command == "pause"
    context.err(
        f"stack {stack}: {'pausing' if paused else 'resuming'} (sandbox:paused={str(paused).lower()})"
    )
    outcome = operations.set_paused(
        context.backend, stack, paused, context.engine_line,
        deployed=deployed, project_dir=context.project_dir,
    )  # fmt: skip
    return _report_outcome(args, context, outcome)


def _report_outcome(args: argparse.Namespace, context: Context, outcome: Outcome) -> int:
    if args.json:
        context.json({"stack": outcome.target, **outcome.to_json()})
    else:
        context.out(render.outcome_text(outcome))
    return EXIT_OK if outcome.ok else EXIT_FAILED
