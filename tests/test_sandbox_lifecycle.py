"""A sandbox's lifecycle as the engine plays it, read off the declared resource graph.

Two engine facts (README "Sandbox lifecycle"; seen on a real cluster) drive these tests:
- replacing a resource delete-before-replace, as a lakeFS branch with a fixed name is, also replaces
  every resource with a property from it whose provider says "replace" for an unknown value, and
  replacing a Namespace deletes everything inside it;
- deletes run dependents first, and a failed delete stops the rest.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Declared, ProgramRun
from tests.sandbox_support import LAKEFS_BRANCH, LEASE, sandbox_run

GUARD = "pulumi-python:dynamic/lakefs:BranchDeleteGuard"
NAMESPACE = "kubernetes:core/v1:Namespace"
BASE = {
    "sandbox:branch": "feature/orders",
    "sandbox:owner": "alice@example.com",
    "sandbox:image": "r.example.com/p:1",
}
# What may take a value from the lakeFS branch: the plain wiring (it names the snapshot's commit),
# the Dagster chart whose code location gets the same wiring (a component, updated in place), the
# guard, which must be replaced with the branch, and the sandbox metastore's seed Job (a newer
# snapshot re-seeds; replacing a Job deletes only the Job) and its server's Deployment (it restarts
# after a re-seed; replacing it deletes only its pods). The metastore's database, Service and
# config, like the run storage, take nothing from the branch.
MAY_FOLLOW_THE_BRANCH = {
    ("kubernetes:core/v1:ConfigMap", "sandbox-wiring"),
    ("kubernetes:helm.sh/v4:Chart", "sandbox-dagster-host-chart"),
    (GUARD, "sandbox-delete-guard"),
    ("kubernetes:batch/v1:Job", "sandbox-catalog-seed"),
    ("kubernetes:apps/v1:Deployment", "metastore-deployment"),
}


def _by_urn(run: ProgramRun) -> dict[str, Declared]:
    return {r.urn: r for r in run.resources}


def _transitive(run: ProgramRun, start: Declared, edges: str) -> set[str]:
    """URNs reachable from ``start`` over ``dependencies`` or ``property_dependencies`` edges."""
    by_urn, seen, todo = _by_urn(run), set(), [start]
    while todo:
        resource = todo.pop()
        if edges == "dependencies":
            nexts = resource.dependencies
        else:
            nexts = [urn for urns in resource.property_dependencies.values() for urn in urns]
        for urn in nexts:
            if urn not in seen and urn in by_urn:
                seen.add(urn)
                todo.append(by_urn[urn])
    return seen


def _replaced_with_the_branch(run: ProgramRun) -> set[tuple[str, str]]:
    """Resources the engine may replace when the branch is: property paths from it, transitively."""
    branch = run.one(LAKEFS_BRANCH)
    condemned = {branch.urn}
    for resource in run.resources:  # registration order is a topological order
        sources = {urn for urns in resource.property_dependencies.values() for urn in urns}
        if resource is not branch and sources & condemned:
            condemned.add(resource.urn)
    return {(r.type, r.name) for r in run.resources if r.urn in condemned and r is not branch}


# -- a newer snapshot replaces the branch, and only what carries its commit ------------------------


def test_nothing_that_would_take_the_namespace_with_it_follows_the_branch() -> None:
    run = sandbox_run(BASE)

    assert _replaced_with_the_branch(run) <= MAY_FOLLOW_THE_BRANCH


def test_the_namespace_takes_no_input_from_the_branch_on_any_path() -> None:
    run = sandbox_run(BASE)
    branch = run.one(LAKEFS_BRANCH)
    namespace = run.one(NAMESPACE)

    assert branch.urn not in _transitive(run, namespace, "dependencies")
    annotations = namespace.inputs["metadata"]["annotations"]
    assert not any("commit" in key and "git" not in key for key in annotations)


def test_run_storage_and_caps_take_no_input_from_the_branch() -> None:
    run = sandbox_run(BASE)
    branch = run.one(LAKEFS_BRANCH)
    lasting = [
        r
        for r in run.resources
        if r.type.split(":")[1].endswith(("v1", "networking.k8s.io/v1"))
        and (r.type, r.name) not in MAY_FOLLOW_THE_BRANCH
        and r.custom
    ]

    assert {r.type for r in lasting} >= {
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:core/v1:Service",
        "kubernetes:core/v1:Secret",
        "kubernetes:core/v1:ResourceQuota",
        "kubernetes:core/v1:LimitRange",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    }
    for resource in lasting:
        assert branch.urn not in _transitive(run, resource, "property_dependencies"), resource.name


def _commit_of(args: Any) -> dict[str, Any]:
    """The Branch create: a commit that differs with the source ref, as lakeFS's would."""
    commit = (args.inputs["sourceRef"].encode().hex() * 64)[:64]
    return {"sourceCommit": commit, "headCommit": commit}


def _lease_kept(args: Any) -> dict[str, Any]:
    """The lease as a second `pulumi up` finds it: created once, its expiry unchanged."""
    return {"createdAt": "2026-12-01T09:00:00+00:00", "expiresAt": "2026-12-08T09:00:00+00:00"}


def test_a_newer_snapshot_changes_only_the_branch_wiring_chart_and_guard() -> None:
    computed = {LAKEFS_BRANCH: _commit_of, LEASE: _lease_kept}
    before = sandbox_run({**BASE, "sandbox:sourceRef": "main"}, computed=computed)
    after = sandbox_run({**BASE, "sandbox:sourceRef": "v2"}, computed=computed)

    inputs_before = {(r.type, r.name): r.inputs for r in before.resources}
    changed = {
        (r.type, r.name)
        for r in after.resources
        if inputs_before.get((r.type, r.name)) != r.inputs and not r.type.startswith("pulumi:")
    }

    assert changed == {(LAKEFS_BRANCH, "sandbox-data")} | MAY_FOLLOW_THE_BRANCH
    assert after.outputs["namespace"] == before.outputs["namespace"]
    assert after.outputs["sourceCommit"] != before.outputs["sourceCommit"]


# -- destroy: the guard goes first, so a refusal deletes nothing ----------------------------------


def _stands_for_children(resource: Declared) -> bool:
    return resource.custom or resource.remote


def test_the_guard_depends_on_every_other_resource_of_the_sandbox() -> None:
    run = sandbox_run(BASE)
    guard = run.one(GUARD)

    everything_else = {r.urn for r in run.resources if _stands_for_children(r) and r is not guard}

    assert everything_else - set(guard.dependencies) == set()


def test_the_engine_can_delete_nothing_before_the_guard() -> None:
    # Deletes run dependents first: the first resources a destroy may delete are those nothing
    # depends on. That must be the guard alone.
    run = sandbox_run(BASE)
    nodes = [r for r in run.resources if _stands_for_children(r)]
    depended_on = {urn for r in nodes for urn in r.dependencies}

    first = {r.name for r in nodes if r.urn not in depended_on}

    assert first == {"sandbox-delete-guard"}


def test_the_guard_guards_the_sandbox_branch_with_its_settings() -> None:
    run = sandbox_run({**BASE, "sandbox:discardUncommitted": True})
    guard = run.one(GUARD)
    branch = run.one(LAKEFS_BRANCH)

    assert guard.inputs["repository"] == branch.inputs["repository"]
    assert guard.inputs["branch"] == branch.inputs["branch"]
    assert guard.inputs["discardUncommitted"] is True
    # Tied to this branch instance: replacing the branch replaces the guard, old one deleted first.
    assert guard.property_dependencies["sourceCommit"] == [branch.urn]
    assert "connection" in guard.secret_inputs
