"""The stage-first gate's rule, on plain data (program-level gate tests live with the tier)."""

from __future__ import annotations

from components.tier.promotion import GateViolation, PromotionGateError, gate_violations

STAGE = {"lakefs": "1.84.0", "dagster": "1.13.28"}


def test_versions_running_on_stage_are_allowed() -> None:
    assert gate_violations(STAGE, source=STAGE, current={"lakefs": "1.80.0", "dagster": "1.13.0"}) == []


def test_a_version_not_on_stage_is_refused_by_component() -> None:
    violations = gate_violations({"lakefs": "1.85.0", "dagster": "1.13.28"}, source=STAGE, current=STAGE)
    assert violations == [GateViolation("lakefs", "1.85.0", "1.84.0", "1.84.0")]
    assert (
        str(violations[0])
        == "lakefs: requested 1.85.0, but the source stack runs 1.84.0; this stack runs 1.84.0"
    )


def test_an_unchanged_version_stays_allowed_after_stage_moved_on() -> None:
    stage_moved = {"lakefs": "1.86.0", "dagster": "1.13.28"}
    assert gate_violations(STAGE, source=stage_moved, current=STAGE) == []


def test_first_deployment_must_match_stage_exactly() -> None:
    violations = gate_violations({"lakefs": "1.80.0", "dagster": "1.13.28"}, source=STAGE, current=None)
    assert [v.component for v in violations] == ["lakefs"]


def test_a_source_stack_that_runs_nothing_refuses_everything() -> None:
    violations = gate_violations(STAGE, source=None, current=None)
    assert {v.component for v in violations} == {"lakefs", "dagster"}
    assert "the source stack runs nothing" in str(violations[0])


def test_the_error_names_every_component_and_what_to_do() -> None:
    error = PromotionGateError(
        "organization/pipeline-sandbox/prod",
        "organization/pipeline-sandbox/stage",
        gate_violations({"lakefs": "1.85.0", "dagster": "1.14.0"}, source=STAGE, current=STAGE),
    )
    message = str(error)
    assert "lakefs: requested 1.85.0" in message
    assert "dagster: requested 1.14.0" in message
    assert "nothing was changed" in message
