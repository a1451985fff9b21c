"""The stage-first gate: a tier stack may only run component versions its source stack runs.

Prod ships with ``tier:promoteFrom: stage``. A requested version is allowed when the source stack
(stage) runs it now, or when this stack already runs it (so stage may move on without blocking an
unrelated prod change). On this stack's first deployment every version must match the source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class GateViolation:
    """One component whose requested version has not run on the source stack."""

    component: str
    requested: str
    source_runs: str | None
    currently_runs: str | None

    def __str__(self) -> str:
        source = self.source_runs or "nothing"
        current = f"; this stack runs {self.currently_runs}" if self.currently_runs else ""
        return f"{self.component}: requested {self.requested}, but the source stack runs {source}{current}"


class PromotionGateError(pulumi.RunError):
    """A version would reach this stack before running on its source stack."""

    def __init__(self, stack: str, source: str, violations: list[GateViolation]) -> None:
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(
            f"stage-first gate: stack {stack!r} may only run versions that {source!r} runs; nothing was "
            f"changed. Deploy these versions to {source!r} first, or keep the ones this stack runs:\n{lines}"
        )
        self.violations = violations


def gate_violations(
    requested: Mapping[str, str],
    source: Mapping[str, str] | None,
    current: Mapping[str, str] | None,
) -> list[GateViolation]:
    """The components whose requested version neither the source stack nor this stack runs."""
    source = source or {}
    current = current or {}
    return [
        GateViolation(component, version, source.get(component), current.get(component))
        for component, version in sorted(requested.items())
        if version != source.get(component) and version != current.get(component)
    ]


def promotion_gate(
    stack: str,
    source_stack: str,
    requested: Mapping[str, str],
    opts: pulumi.ResourceOptions | None = None,
) -> pulumi.Output[Mapping[str, str]]:
    """An Output of the requested versions that fails with :class:`PromotionGateError` on a violation.

    ``source_stack`` and ``stack`` are fully qualified. This stack's own last ``versions`` output is
    what it currently runs (empty on its first deployment).
    """
    source_ref = pulumi.StackReference(
        f"promote-from-{source_stack.rsplit('/', 1)[-1]}", source_stack, opts=opts
    )
    self_ref = pulumi.StackReference("running-versions", stack, opts=opts)

    def check(values: list[object]) -> Mapping[str, str]:
        source_versions, current_versions = (v if isinstance(v, dict) else None for v in values)
        violations = gate_violations(requested, source_versions, current_versions)
        if violations:
            raise PromotionGateError(stack, source_stack, violations)
        return dict(requested)

    return pulumi.Output.all(source_ref.get_output("versions"), self_ref.get_output("versions")).apply(check)
