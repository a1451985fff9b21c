"""Engine-free dry run: evaluate the whole program for a stack under Pulumi mocks and list what it
would declare. Needs no Pulumi CLI, cluster or lakeFS, so a config change can be checked anywhere.

Usage: ``python -m tools.plan --stack dev``, or for a sandbox
``python -m tools.plan --stack alice-x --set sandbox:branch=x``.
Sandbox stacks are evaluated against sample tier outputs (a real run reads the deployed tier).
"""

from __future__ import annotations

import argparse
import json
import sys

from tests.conftest import ProgramFailed, ProgramRun, run_program
from tests.sandbox_support import LAKEFS_BRANCH, LEASE, TIER_OUTPUTS, created_branch, simulated_lease
from tests.simulated import SIMULATED
from tests.tier_support import AWS_COMPUTED, STAGE, shipped_versions


def plan(stack: str, overrides: dict[str, str]) -> ProgramRun:
    """Evaluates the program for ``stack`` with ``overrides`` layered over its stack file."""
    return run_program(
        stack,
        overrides,
        # Sandboxes read the sample prod tier; a gated tier stack reads stage as shipped in stacks/.
        stack_outputs={**TIER_OUTPUTS, STAGE: {"versions": shipped_versions("stage")}},
        # What AWS would compute (an RDS address...), so aws tier stacks evaluate too.
        computed={LEASE: simulated_lease, LAKEFS_BRANCH: created_branch, **SIMULATED, **AWS_COMPUTED},
    )


def render(run: ProgramRun) -> str:
    lines = [f"stack {run.stack}: {len(run.resources)} resources"]
    for resource in run.resources:
        flags = " [protect]" if resource.protect else ""
        parent = f"  (in {resource.parent_name})" if resource.parent_name else ""
        lines.append(f"  + {resource.type}  {resource.name}{flags}{parent}")
    lines.append("outputs:")
    for name, value in sorted(run.outputs.items()):
        shown = "[secret]" if name in run.secret_outputs else json.dumps(value)
        lines.append(f"  {name}: {shown}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--stack", default="dev", help="stack name (tier: dev/stage/prod; anything else: sandbox)"
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    try:
        print(render(plan(args.stack, overrides)))
    except ProgramFailed as failure:
        print(f"error: {failure.error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
