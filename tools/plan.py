"""Engine-free dry run: evaluates the whole program for one stack under Pulumi mocks and lists the
resources and outputs it would declare. Needs no Pulumi CLI, cluster or lakeFS, so a config change
can be checked anywhere.

A tier stack (dev, stage, prod) is read from its stack file in stacks/; any other stack name is a
sandbox of the checked-out git branch, evaluated against sample tier outputs (a real run reads the
deployed tier). Config given with --set is layered over the stack file.

Examples: python -m tools.plan --stack dev
          python -m tools.plan --stack alice-x --set sandbox:branch=x

Exit codes: 0 planned, 1 the program refused the config (the error names each key), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys

from components.config import Environment
from tests.conftest import PROJECT_ROOT, ProgramFailed, ProgramRun, run_program
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


def tier_stacks() -> list[str]:
    """The shipped tier stacks, in promotion order: one stack file per environment in stacks/."""
    return [e.value for e in Environment if (PROJECT_ROOT / "stacks" / f"Pulumi.{e.value}.yaml").is_file()]


def main(argv: list[str] | None = None) -> int:
    tiers = ", ".join(tier_stacks())
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--stack", help=f"stack to plan (required): a tier stack ({tiers}) or any other name for a sandbox"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="config override, e.g. sandbox:ttl=3d"
    )
    args = parser.parse_args(argv)
    if not args.stack:
        parser.error(f"--stack is required: a tier stack ({tiers}) or any other name for a sandbox")
    malformed = [item for item in args.set if "=" not in item]
    if malformed:
        parser.error(f"--set expects KEY=VALUE, e.g. sandbox:ttl=3d; got {', '.join(malformed)}")
    overrides = dict(item.split("=", 1) for item in args.set)
    try:
        print(render(plan(args.stack, overrides)))
    except ProgramFailed as failure:
        print(f"error: {failure.error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
