"""The example pipeline (``examples/pipeline``) on real Dagster, wired by what the program declares.

Nothing here writes the wiring by hand: each test runs the program (under mocks) as a sandbox or a
tier, takes the environment its code location's pods get (the chart's ``env`` plus the Secrets named
in ``envSecrets``), and loads the example with exactly that. The sandbox's lakeFS branch is created
in a lakeFS fake over HTTP by the program's own Branch provider, so ``LAKEFS_SOURCE_COMMIT`` is the
commit lakeFS really resolved. A renamed variable in the program therefore fails these tests.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import dagster as dg
import lakefs_sdk
import pytest
import yaml
from lakefs_sdk.exceptions import ForbiddenException, NotFoundException

from components.lakefs.branch import BranchProvider
from components.lakefs.protection import BranchProtectionProvider
from components.sandbox.component import WIRING_CONFIG_MAP
from components.tier.chart_common import RunAs
from tests.conftest import PROJECT_ROOT, ProgramRun, SecretValue, _unwrap_secrets
from tests.lakefs_fake import FakeLakeFSServer
from tests.sandbox_support import LAKEFS_BRANCH, PROD_TIER, PROD_TIER_OUTPUTS, sandbox_run
from tests.tier_support import shipped_versions, tier_run

EXAMPLE = PROJECT_ROOT / "examples" / "pipeline"
CHART = "kubernetes:helm.sh/v4:Chart"
ACCESS_KEY_ID = "AKIAEXAMPLETIER"
SECRET_ACCESS_KEY = "example-tier-secret/never+shown"
ORDERS = b"order_id,day,amount\n1,2026-11-30,10.50\n2,2026-11-30,4.50\n3,2026-12-01,20.00\n"
LATER_ORDERS = b"order_id,day,amount\n1,2026-11-30,99.00\n"
SANDBOX = {"sandbox:branch": "feature/orders", "sandbox:owner": "alice@example.com", "sandbox:image": "r/p:1"}
# Everything the contract could name: cleared first, so only what the program declares reaches the code.
CONTRACT_PREFIXES = ("LAKEFS_", "PIPELINE_", "HIVE_")


@dataclass
class Production:
    """The tier's lakeFS, as the tier leaves it: input committed on the default branch, which is protected."""

    fake: FakeLakeFSServer
    repository: str
    default_branch: str
    snapshot: str
    """The default branch's head when the sandbox is created."""

    def api(self) -> lakefs_sdk.ApiClient:
        configuration = lakefs_sdk.Configuration(
            host=self.fake.endpoint + "/api/v1", username=ACCESS_KEY_ID, password=SECRET_ACCESS_KEY
        )
        return lakefs_sdk.ApiClient(configuration)

    def read(self, ref: str, path: str) -> bytes:
        with self.api() as client:
            return bytes(lakefs_sdk.ObjectsApi(client).get_object(self.repository, ref, path))

    def head(self, branch: str) -> str:
        with self.api() as client:
            return str(lakefs_sdk.BranchesApi(client).get_branch(self.repository, branch).commit_id)

    def uncommitted(self, branch: str) -> list[str]:
        with self.api() as client:
            diff = lakefs_sdk.BranchesApi(client).diff_branch(self.repository, branch)
        return [item.path for item in diff.results]

    def commits(self, branch: str) -> list[lakefs_sdk.Commit]:
        with self.api() as client:
            return list(lakefs_sdk.RefsApi(client).log_commits(self.repository, branch).results)

    def production_commits(self, path: str, content: bytes) -> str:
        """A later production change to the default branch (a merge would do it; protection aside)."""
        state = self.fake.state
        with state.lock:
            rules, _ = state.get_protection(self.repository)
            state.set_protection(self.repository, [], None)
            state.stage(self.repository, self.default_branch, path, content)
            commit = state.commit(self.repository, self.default_branch, {"message": "production update"})
            state.set_protection(self.repository, rules, None)
        return str(commit["id"])

    def tier_outputs(self) -> dict[str, dict[str, Any]]:
        """What the deployed prod tier exports, with its lakeFS at the fake (from outside and from pods)."""
        outputs = {
            **PROD_TIER_OUTPUTS,
            "lakefsEndpoint": self.fake.endpoint,
            "lakefsInternalEndpoint": self.fake.endpoint,
            "lakefsAccessKeyId": SecretValue(ACCESS_KEY_ID),
            "lakefsSecretAccessKey": SecretValue(SECRET_ACCESS_KEY),
        }
        return {PROD_TIER: outputs}


@pytest.fixture
def production() -> Iterator[Production]:
    fake = FakeLakeFSServer(ACCESS_KEY_ID, SECRET_ACCESS_KEY).start()
    repository, default = PROD_TIER_OUTPUTS["lakefsRepository"], PROD_TIER_OUTPUTS["lakefsDefaultBranch"]
    fake.state.create_repository(
        {"name": repository, "storage_namespace": "mem://production", "default_branch": default}
    )
    fake.state.stage(repository, default, "raw/orders.csv", ORDERS)
    snapshot = fake.state.commit(repository, default, {"message": "orders"})["id"]
    connection = {
        "endpoint": fake.endpoint,
        "accessKeyId": ACCESS_KEY_ID,
        "secretAccessKey": SECRET_ACCESS_KEY,
    }
    # What the tier declares for its repository (components/tier/component.py), by the same provider.
    BranchProtectionProvider().create(
        {"connection": connection, "repository": repository, "patterns": [default]}
    )
    yield Production(fake, repository, default, snapshot)
    fake.stop()


def sandbox_on(production: Production, config: dict[str, Any] | None = None) -> ProgramRun:
    """Runs the program as a sandbox whose lakeFS branch the real Branch provider creates in the fake."""

    def create_branch(args: Any) -> dict[str, Any]:
        props = {k: v for k, v in _unwrap_secrets(dict(args.inputs)).items() if k != "__provider"}
        return dict(BranchProvider().create(props).outs or {})

    return sandbox_run(
        {**SANDBOX, **(config or {})},
        tier_outputs=production.tier_outputs(),
        computed={LAKEFS_BRANCH: create_branch},
    )


def code_location(run: ProgramRun, chart: str | None = None) -> dict[str, Any]:
    deployments = run.one(CHART, chart).inputs["values"]["dagster-user-deployments"]["deployments"]
    assert len(deployments) == 1
    return dict(deployments[0])


def pod_environment(run: ProgramRun, chart: str | None = None) -> dict[str, str]:
    """What the code server and every run pod get: the location's env, then its Secrets' keys."""
    location = code_location(run, chart)
    environment = dict(location["env"])
    secrets = {r.inputs["metadata"]["name"]: r for r in run.of_type("kubernetes:core/v1:Secret")}
    for reference in location.get("envSecrets", []):
        environment.update(secrets[reference["name"]].inputs["stringData"])
    return environment


def sandbox_environment(run: ProgramRun) -> dict[str, str]:
    environment = pod_environment(run)
    wiring = run.one("kubernetes:core/v1:ConfigMap", "sandbox-wiring")
    assert wiring.inputs["metadata"]["name"] == WIRING_CONFIG_MAP
    # Notebooks and ad-hoc pods read the ConfigMap: it must say what the pipeline's pods are told.
    assert wiring.inputs["data"].items() <= environment.items()
    return environment


def load_example(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], module: str) -> ModuleType:
    """Imports the code location as its code server would: fresh, with only ``environment`` set."""
    for name in [n for n in list(os.environ) if n.startswith(CONTRACT_PREFIXES)]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.syspath_prepend(str(EXAMPLE))
    package = module.split(".", maxsplit=1)[0]
    for loaded in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        monkeypatch.delitem(sys.modules, loaded)
    return importlib.import_module(module)


def definitions(module: ModuleType) -> dg.Definitions:
    found = [value for value in vars(module).values() if isinstance(value, dg.Definitions)]
    assert len(found) == 1, f"{module.__name__} must hold exactly one Definitions"
    return found[0]


def materialize_everything(defs: dg.Definitions, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    return defs.resolve_implicit_global_asset_job_def().execute_in_process(raise_on_error=raise_on_error)


def served_module(run: ProgramRun, chart: str | None = None) -> str:
    arguments = code_location(run, chart)["dagsterApiGrpcArgs"]
    return str(arguments[arguments.index("--module-name") + 1])


def instigator_statuses(defs: dg.Definitions) -> set[str]:
    statuses = {schedule.default_status.value for schedule in defs.schedules or []}
    return statuses | {sensor.default_status.value for sensor in defs.sensors or []}


@dataclass
class SandboxExample:
    """The program's sandbox run, the environment its pods get, and the example loaded with it."""

    run: ProgramRun
    environment: dict[str, str]
    defs: dg.Definitions


def sandbox_example(
    production: Production,
    monkeypatch: pytest.MonkeyPatch,
    config: dict[str, Any] | None = None,
    overrides: dict[str, str] | None = None,
) -> SandboxExample:
    """The example as a sandbox's code server loads it; ``overrides`` stand for code ignoring the wiring."""
    run = sandbox_on(production, config)
    environment = {**sandbox_environment(run), **(overrides or {})}
    defs = definitions(load_example(monkeypatch, environment, served_module(run)))
    return SandboxExample(run, environment, defs)


# -- data: outputs on the sandbox branch, production untouched ---------------------------------


def test_outputs_land_on_the_sandbox_branch_and_production_is_untouched(
    production: Production, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = sandbox_example(production, monkeypatch)
    sandbox_branch = example.environment["LAKEFS_BRANCH"]
    assert sandbox_branch == example.run.outputs["lakefsBranch"] != production.default_branch

    result = materialize_everything(example.defs)

    assert result.success
    daily = production.read(sandbox_branch, "derived/daily_revenue.csv")
    assert daily == b"day,revenue\n2026-11-30,15.00\n2026-12-01,20.00\n"
    summary = json.loads(production.read(sandbox_branch, "derived/revenue_summary.json"))
    assert summary == {"days": 2, "total": "35.00", "best_day": "2026-12-01"}
    assert production.uncommitted(sandbox_branch) == []
    # Production: same head, nothing staged, no derived object.
    assert production.head(production.default_branch) == production.snapshot
    assert production.uncommitted(production.default_branch) == []
    with pytest.raises(NotFoundException):
        production.read(production.default_branch, "derived/daily_revenue.csv")


def test_the_data_read_is_the_snapshot_lakefs_source_commit_names(
    production: Production, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = sandbox_example(production, monkeypatch)
    environment = example.environment
    source_commit = environment["LAKEFS_SOURCE_COMMIT"]
    assert source_commit == production.snapshot == example.run.outputs["sourceCommit"]
    # Production moves on after the sandbox was created: the sandbox must not see it.
    production.production_commits("raw/orders.csv", LATER_ORDERS)

    result = materialize_everything(example.defs)

    daily_metadata = result.asset_materializations_for_node("daily_revenue")[0].metadata
    assert daily_metadata["input_commit"].value == source_commit
    assert daily_metadata["source_commit"].value == source_commit
    assert b"99.00" not in production.read(environment["LAKEFS_BRANCH"], "derived/daily_revenue.csv")
    pipeline_commits = production.commits(environment["LAKEFS_BRANCH"])[:2]
    assert [c.message for c in pipeline_commits] == [
        "revenue_summary from derived/daily_revenue.csv",
        "daily_revenue from raw/orders.csv",
    ]
    assert all(c.metadata and c.metadata["lakefs_source_commit"] == source_commit for c in pipeline_commits)
    assert pipeline_commits[-1].parents == [source_commit]


def test_a_write_to_the_protected_default_branch_fails_and_leaves_it_unchanged(
    production: Production, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pitfall: code that writes to the default branch instead of LAKEFS_BRANCH.
    example = sandbox_example(production, monkeypatch, overrides={"LAKEFS_BRANCH": production.default_branch})

    result = materialize_everything(example.defs, raise_on_error=False)

    assert not result.success
    failures = [event for event in result.all_events if event.is_step_failure]
    assert failures and "403" in str(failures[0].step_failure_data.error)
    assert production.head(production.default_branch) == production.snapshot
    assert production.uncommitted(production.default_branch) == []
    with pytest.raises(ForbiddenException), production.api() as client:
        lakefs_sdk.CommitsApi(client).commit(
            production.repository,
            production.default_branch,
            lakefs_sdk.CommitCreation(message="x", allow_empty=True, date=None, force=None),
        )


# -- schedules and sensors follow the flags ------------------------------------------------------


def test_in_a_sandbox_the_schedule_and_sensor_load_stopped(
    production: Production, monkeypatch: pytest.MonkeyPatch
) -> None:
    defs = sandbox_example(production, monkeypatch).defs

    assert len(list(defs.schedules or [])) == 1 and len(list(defs.sensors or [])) == 1
    assert instigator_statuses(defs) == {"STOPPED"}


def test_a_sandbox_that_turns_schedules_on_starts_its_schedule_only(
    production: Production, monkeypatch: pytest.MonkeyPatch
) -> None:
    defs = sandbox_example(production, monkeypatch, {"sandbox:schedules": True}).defs

    assert [s.default_status for s in defs.schedules or []] == [dg.DefaultScheduleStatus.RUNNING]
    assert [s.default_status for s in defs.sensors or []] == [dg.DefaultSensorStatus.STOPPED]


def test_in_the_tier_the_schedule_and_sensor_load_running(monkeypatch: pytest.MonkeyPatch) -> None:
    run = tier_run("dev")
    chart = "tier-dagster-chart"

    defs = definitions(load_example(monkeypatch, pod_environment(run, chart), served_module(run, chart)))

    assert instigator_statuses(defs) == {"RUNNING"}


def test_a_flag_that_is_neither_true_nor_false_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(
        ValueError, match=r"PIPELINE_SANDBOX_SENSORS_ENABLED='on': expected 'true' or 'false'"
    ):
        load_example(monkeypatch, {"PIPELINE_SANDBOX_SENSORS_ENABLED": "on"}, "pipeline.definitions")


def test_the_sensor_asks_for_one_run_per_new_commit_on_the_sandbox_branch(
    production: Production, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = sandbox_example(production, monkeypatch)
    defs, environment = example.defs, example.environment
    sensor = defs.resolve_sensor_def("new_commit_sensor")
    assert defs.resources is not None
    resources = {"lakefs": defs.resources["lakefs"]}

    with dg.build_sensor_context(resources=resources) as context:
        first = sensor.evaluate_tick(context)
    with dg.build_sensor_context(cursor=first.cursor, resources=resources) as context:
        again = sensor.evaluate_tick(context)

    assert [r.run_key for r in first.run_requests or []] == [environment["LAKEFS_SOURCE_COMMIT"]]
    assert again.run_requests == []


# -- the example is what the tier serves, on the tier's Dagster ----------------------------------


def test_the_example_is_the_module_the_tier_serves_by_default() -> None:
    run = tier_run("dev")
    module = served_module(run, "tier-dagster-chart")

    assert module == run.outputs["codeModule"]
    assert (EXAMPLE / Path(*module.split("."))).with_suffix(".py").is_file()


def _pins(requirements: Path) -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", requirements.read_text(), flags=re.MULTILINE)
    return {name.lower(): version for name, version in pins}


def test_the_example_and_its_tests_run_the_tiers_dagster_version() -> None:
    tier_versions = {shipped_versions(stack)["dagster"] for stack in ("dev", "stage", "prod")}
    image = _pins(EXAMPLE / "requirements.txt")
    major, minor, patch = image["dagster"].split(".")

    assert tier_versions == {image["dagster"]} == {_pins(PROJECT_ROOT / "requirements-dev.txt")["dagster"]}
    assert dg.__version__ == image["dagster"]
    # Dagster's libraries are released with the core as 0.<minor + 16>.<patch> (1.13.28 -> 0.29.28).
    assert major == "1"
    for library in ("dagster-k8s", "dagster-postgres"):
        assert image[library] == f"0.{int(minor) + 16}.{patch}", library
    assert image["lakefs-sdk"] == _pins(PROJECT_ROOT / "requirements.txt")["lakefs-sdk"]


def test_the_image_is_tagged_by_full_commit_and_runs_as_the_user_dagster_pods_run_as() -> None:
    workflow = yaml.safe_load((EXAMPLE / ".github" / "workflows" / "code-image.yml").read_text())
    triggers = workflow.get(True, workflow.get("on"))  # YAML 1.1 reads a bare `on` key as true
    steps = workflow["jobs"]["build-and-push"]["steps"]
    build = next(step for step in steps if str(step.get("uses", "")).startswith("docker/build-push-action"))
    dockerfile = (EXAMPLE / "Dockerfile").read_text()
    run_as = RunAs()

    # github.sha is the pushed commit on push, but a merge commit on pull_request.
    assert set(triggers) == {"push"}
    assert "${{ env.IMAGE }}:${{ github.sha }}" in build["with"]["tags"].splitlines()
    assert build["with"]["context"] == "." and build["with"]["push"] is True
    assert re.search(rf"^USER {run_as.user}:{run_as.group}$", dockerfile, flags=re.MULTILINE)
    assert '--module-name", "pipeline.definitions"' in dockerfile
