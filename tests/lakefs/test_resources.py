"""The Resource classes as the engine sees them: type tokens, camelCase inputs, secret connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

from components.lakefs import (
    Branch,
    BranchArgs,
    BranchProtection,
    BranchProtectionArgs,
    LakeFSConnection,
    LakeFSSetup,
    LakeFSSetupArgs,
    Repository,
    RepositoryArgs,
    Tag,
    TagArgs,
)

pytestmark = pytest.mark.lakefs

SECRET = "mock-secret-value"


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        outs = {k: v for k, v in args.inputs.items() if k != "__provider"}
        if args.typ.endswith(":Branch"):
            outs.update(sourceCommit="c0ffee", headCommit="c0ffee")
        if args.typ.endswith(":Setup"):
            outs.update(userId="admin", adopted=False)
        return f"{args.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


class _Monitor(MockMonitor):
    """Keeps every RegisterResource request, to inspect secrets and options."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.requests: list[Any] = []

    def RegisterResource(self, request: Any) -> Any:
        self.requests.append(request)
        return super().RegisterResource(request)


@pytest.fixture
def monitor() -> Iterator[_Monitor]:
    mocks = _Mocks()
    mon = _Monitor(mocks)
    pulumi.runtime.set_mocks(mocks, preview=False, monitor=mon)
    yield mon


def _conn() -> LakeFSConnection:
    return LakeFSConnection("http://lakefs:8000", "AKIA", SECRET, timeout_seconds=5)


@pulumi.runtime.test
def test_branch_registers_token_inputs_and_outputs(monitor: _Monitor) -> Any:
    args = BranchArgs(connection=_conn(), repository="lake", branch="sbx", source_ref="main")
    branch = Branch("sbx", args)

    def verify(values: list[Any]) -> None:
        source_commit, head_commit = values
        (request,) = [r for r in monitor.requests if r.name == "sbx"]
        assert request.type == "pulumi-python:dynamic/lakefs:Branch"
        assert list(request.additionalSecretOutputs) == ["connection"]
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        assert {"sourceRef", "discardUncommitted", "archive", "connection"} <= set(inputs)
        assert inputs["discardUncommitted"] is False and inputs["archive"] is True
        # The secret key makes the whole connection object a secret on the wire and in the state.
        assert rpc.is_rpc_secret(inputs["connection"])
        connection = rpc.unwrap_rpc_secret(inputs["connection"])
        assert set(connection) >= {"endpoint", "accessKeyId", "secretAccessKey", "timeoutSeconds"}
        assert source_commit == "c0ffee" and head_commit == "c0ffee"

    return pulumi.Output.all(branch.source_commit, branch.head_commit).apply(verify)


@pulumi.runtime.test
def test_every_resource_has_its_token(monitor: _Monitor) -> Any:
    conn = _conn()
    Repository("repo", RepositoryArgs(connection=conn, name="lake", storage_namespace="s3://b/lake"))
    BranchProtection("protect", BranchProtectionArgs(connection=conn, repository="lake", patterns=["main"]))
    tag = Tag("tag", TagArgs(connection=conn, repository="lake", tag="v1", ref="main"))

    def verify(_: Any) -> None:
        tokens = {r.name: r.type for r in monitor.requests}
        assert tokens["repo"] == "pulumi-python:dynamic/lakefs:Repository"
        assert tokens["protect"] == "pulumi-python:dynamic/lakefs:BranchProtection"
        assert tokens["tag"] == "pulumi-python:dynamic/lakefs:Tag"

    return tag.repository.apply(verify)


@pulumi.runtime.test
async def test_setup_keeps_the_key_secret_and_hands_on_a_connection(monitor: _Monitor) -> None:
    args = LakeFSSetupArgs(
        endpoint="http://lakefs:8000",
        access_key_id=pulumi.Output.secret("AKIAGEN"),
        secret_access_key=pulumi.Output.secret(SECRET),
        wait_seconds=30,
    )
    setup = LakeFSSetup("setup", args)
    conn = setup.admin_connection
    secret = pulumi.Output.from_input(conn.secret_access_key)

    values = await pulumi.Output.all(setup.user_id, conn.endpoint, secret).future()

    assert values == ["admin", "http://lakefs:8000", SECRET]
    assert await secret.is_secret()
    (request,) = [r for r in monitor.requests if r.name == "setup"]
    assert request.type == "pulumi-python:dynamic/lakefs:Setup"
    assert list(request.additionalSecretOutputs) == ["connection"]
    inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
    assert inputs["adminUsername"] == "admin" and inputs["waitSeconds"] == 30
    assert rpc.is_rpc_secret(inputs["connection"])
    assert rpc.unwrap_rpc_secret(inputs["connection"])["maxRetries"] == 0
