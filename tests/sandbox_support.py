"""Shared inputs for sandbox program tests: a deployed prod tier's outputs and simulated providers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.sandbox.lease import SandboxLeaseProvider
from tests.conftest import ProgramRun, SecretValue, run_program
from tests.simulated import SIMULATED

LEASE = "pulumi-python:dynamic/sandbox:Lease"
LAKEFS_BRANCH = "pulumi-python:dynamic/lakefs:Branch"
SOURCE_COMMIT = "c0ffee" + "0" * 58
PROD_TIER = "organization/pipeline-sandbox/prod"
ACCESS_KEY_ID = "AKIAPRODTIERKEY00001"
SECRET_ACCESS_KEY = "prod-tier-secret-value-never-shown"
READER_PASSWORD = "prod-metastore-reader-password-never-shown"

# What a deployed prod tier exports (the tier's output contract, README "Tier outputs").
PROD_TIER_OUTPUTS: dict[str, Any] = {
    "environment": "prod",
    "namespace": "pipeline-prod",
    "versions": {"lakefs": "1.84.0", "dagster": "1.13.28", "postgres": "16.4", "metastore": "4.0.1"},
    "lakefsEndpoint": "https://lakefs.example.com",
    "lakefsInternalEndpoint": "http://lakefs.pipeline-prod.svc.cluster.local:80",
    "lakefsRepository": "pipeline",
    "lakefsDefaultBranch": "main",
    "lakefsAccessKeyId": SecretValue(ACCESS_KEY_ID),
    "lakefsSecretAccessKey": SecretValue(SECRET_ACCESS_KEY),
    "metastoreUri": "thrift://metastore.pipeline-prod.svc.cluster.local:9083",
    "metastoreDatabase": {
        "host": "tier-postgres.pipeline-prod.svc.cluster.local",
        "port": 5432,
        "name": "metastore",
        "sslmode": "disable",
    },
    "metastoreReaderUsername": SecretValue("metastore_reader"),
    "metastoreReaderPassword": SecretValue(READER_PASSWORD),
    "codeImageRepository": "registry.example.com/pipeline",
    "codeModule": "pipeline.definitions",
}
TIER_OUTPUTS = {PROD_TIER: PROD_TIER_OUTPUTS}
# A tier deployed before sandboxes had their own metastore: none of the catalog outputs.
OLDER_TIER_OUTPUTS = {
    k: v
    for k, v in PROD_TIER_OUTPUTS.items()
    if k not in {"metastoreDatabase", "metastoreReaderUsername", "metastoreReaderPassword"}
} | {"versions": {"lakefs": "1.84.0", "dagster": "1.13.28", "postgres": "16.4"}}


def created_branch(args: Any) -> dict[str, Any]:
    """What the Branch provider's create returns: the source resolved to a commit."""
    return {"sourceCommit": SOURCE_COMMIT, "headCommit": SOURCE_COMMIT}


def simulated_lease(args: Any) -> dict[str, Any]:
    """Runs the lease provider's real create, as the engine would on first `pulumi up`."""
    return dict(SandboxLeaseProvider().create(dict(args.inputs)).outs or {})


def sandbox_run(
    config: dict[str, Any],
    checkout: Path | None = None,
    *,
    stack: str = "alice-feature-x",
    tier_outputs: dict[str, dict[str, Any]] | None = None,
    computed: dict[str, Any] | None = None,
) -> ProgramRun:
    """Runs the program as a sandbox stack against a deployed prod tier."""
    if checkout is not None:
        config = {"sandbox:gitDir": str(checkout), **config}
    return run_program(
        stack,
        config,
        stack_outputs=TIER_OUTPUTS if tier_outputs is None else tier_outputs,
        computed={LEASE: simulated_lease, LAKEFS_BRANCH: created_branch, **SIMULATED, **(computed or {})},
    )
