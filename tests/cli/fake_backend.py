"""A fake of the command's stack backend, faithful where the command's safety depends on it.

Stacks live in memory. ``destroy`` does what the engine does to a sandbox stack: it deletes the delete
guard first (the real ``inspect_for_delete`` checks against lakeFS, with the destroy-time opt-ins read
from the environment the command passed, on top of the process's, as the engine's provider process
sees it), then the rest, then the branch through the real ``safe_delete`` (archive tag, delete). A
refusal is raised as the engine reports it: a failed command whose text carries the provider's
message. ``up`` runs the real program under mocks (``tests.conftest.run_program``) with the stack's
config, so pausing is checked on the resources the program really declares.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from components.lakefs.branch import inspect_for_delete, safe_delete
from components.lakefs.client import ConnectionSettings, Session
from components.lakefs.errors import LakeFSError
from components.lakefs.opt_in import discard_uncommitted_opted_in, forget_unreachable_opted_in
from pipeline_sandbox_cli.backend import (
    BackendError,
    OnOutput,
    StackNotFoundError,
    StackSummary,
    UpdateInfo,
)
from tests.conftest import ORGANIZATION, PROJECT, ProgramFailed, ProgramRun, SecretValue, run_program
from tests.sandbox_support import LAKEFS_BRANCH, LEASE, created_branch, simulated_lease
from tests.simulated import SIMULATED

MUTATING = ("create_or_select", "set_config", "up", "destroy", "remove_stack")
_SECRET_OUTPUTS = ("lakefsAccessKeyId", "lakefsSecretAccessKey")


@dataclass
class FakeStack:
    """One stack: what ``pulumi stack output``, ``config`` and ``history`` would show."""

    name: str
    outputs: dict[str, Any] = field(default_factory=dict)
    config: dict[str, str] = field(default_factory=dict)
    history: list[UpdateInfo] = field(default_factory=list)
    update_in_progress: bool = False
    fail_destroy: str | None = None
    """When set, destroy fails with this engine text (e.g. a cluster that does not answer)."""


class FakeBackend:
    """In-memory :class:`~pipeline_sandbox_cli.backend.StackBackend`; see the module docstring.

    Args:
        latency: Seconds each read waits, standing in for one Pulumi CLI call (benchmarks).
    """

    def __init__(self, latency: float = 0.0) -> None:
        self.stacks: dict[str, FakeStack] = {}
        self.calls: list[tuple[str, str]] = []
        self.latency = latency
        self.last_run: ProgramRun | None = None
        self._lock = threading.Lock()
        self._program_lock = threading.Lock()

    # -- test set-up -----------------------------------------------------------------------------
    def add(self, stack: FakeStack) -> FakeStack:
        self.stacks[stack.name] = stack
        return stack

    def mutations_of(self, stack: str) -> list[str]:
        return [op for op, name in self.calls if name == stack and op in MUTATING]

    # -- the StackBackend interface --------------------------------------------------------------
    def list_stacks(self) -> list[StackSummary]:
        self._record("list_stacks", "")
        return [
            StackSummary(s.name, s.history[-1].end_time if s.history else None, s.update_in_progress)
            for s in self.stacks.values()
        ]

    def outputs(self, stack: str) -> dict[str, Any]:
        return dict(self._stack("outputs", stack).outputs)

    def config(self, stack: str) -> dict[str, str]:
        return dict(self._stack("config", stack).config)

    def last_update(self, stack: str) -> UpdateInfo | None:
        history = self._stack("last_update", stack).history
        return history[-1] if history else None

    def exists(self, stack: str) -> bool:
        self._record("exists", stack)
        return self._resolve(stack) in self.stacks

    def create_or_select(self, stack: str) -> None:
        self._record("create_or_select", stack)
        self.stacks.setdefault(stack, FakeStack(stack))

    def set_config(self, stack: str, key: str, value: str) -> None:
        self._stack("set_config", stack).config[key] = value

    def up(self, stack: str, on_output: OnOutput) -> dict[str, Any]:
        fake = self._stack("up", stack)
        on_output(f"Updating ({stack}):")
        with self._program_lock:  # the Pulumi mocks are process-wide
            _ensure_event_loop()  # gc may pause from a worker thread; the mocks need a loop there
            program = functools.partial(
                run_program,
                stack,
                dict(fake.config),
                stack_outputs=self._tier_outputs_for_program(),
                computed={LEASE: simulated_lease, LAKEFS_BRANCH: created_branch, **SIMULATED},
            )
            try:
                # In a context of its own: the mocks' engine must not outlive this `up` (later code
                # logging through pulumi.log would reach it instead of stderr).
                run = contextvars.copy_context().run(program)
            except ProgramFailed as failure:
                fake.history.append(_update("update", "failed"))
                text = f"error: {failure.error}"
                on_output(text)
                raise BackendError(f"`pulumi up` of stack {stack!r} failed: {failure.error}", text) from None
        self.last_run = run
        fake.outputs = dict(run.outputs)
        fake.history.append(_update("update", "succeeded"))
        on_output(f"Resources: {len(run.resources)} unchanged or updated")
        return dict(run.outputs)

    def destroy(self, stack: str, on_output: OnOutput, env: Mapping[str, str]) -> None:
        fake = self._stack("destroy", stack)
        on_output(f"Destroying ({stack}):")
        if fake.fail_destroy:
            fake.history.append(_update("destroy", "failed"))
            raise BackendError(
                f"`pulumi destroy` of stack {stack!r} failed: {fake.fail_destroy}", fake.fail_destroy
            )
        if fake.outputs.get("lakefsBranch"):
            self._delete_sandbox(fake, {**os.environ, **env}, on_output)
        fake.outputs = {}
        fake.history.append(_update("destroy", "succeeded"))
        on_output("The resources in the stack have been deleted")

    def remove_stack(self, stack: str) -> None:
        fake = self._stack("remove_stack", stack)
        if fake.outputs:
            raise BackendError(f"stack {stack!r} still has resources; destroy it first")
        del self.stacks[fake.name]

    # -- the engine's view of a sandbox destroy --------------------------------------------------
    def _delete_sandbox(self, fake: FakeStack, environ: dict[str, str], on_output: OnOutput) -> None:
        tier = self.stacks[self._resolve(str(fake.outputs.get("tier") or "prod"))].outputs
        settings = ConnectionSettings(
            tier["lakefsEndpoint"], tier["lakefsAccessKeyId"], tier["lakefsSecretAccessKey"], 5.0, 1, 0.05
        )
        repo, branch = tier["lakefsRepository"], fake.outputs["lakefsBranch"]
        props = {
            "archive": fake.config.get("sandbox:archive", "true") == "true",
            # The engine deletes with the state's inputs: the deployed value (its output) wins over
            # the local config, which a machine running gc may not even have.
            "discardUncommitted": fake.outputs.get(
                "discardUncommitted", fake.config.get("sandbox:discardUncommitted") == "true"
            ),
            "sourceCommit": fake.outputs.get("sourceCommit"),
        }
        try:
            forget, discard = forget_unreachable_opted_in(environ), discard_uncommitted_opted_in(environ)
            with Session(settings) as s:
                # The delete guard goes first; a refusal stops the destroy before anything is deleted.
                inspect_for_delete(s, repo, branch, props, forget=forget, discard=discard, deferred=True)
                on_output(" - kubernetes:core/v1:Namespace deleted")
                safe_delete(s, repo, branch, props, forget=forget, discard=discard)
        except LakeFSError as exc:
            fake.history.append(_update("destroy", "failed"))
            text = (
                "error: update failed\n  pulumi-python:dynamic/lakefs:BranchDeleteGuard "
                f"(sandbox-delete-guard):\n    error: Exception: {type(exc).__name__}: {exc}"
            )
            on_output(text)
            raise BackendError(f"`pulumi destroy` of stack {fake.name!r} failed: {exc}", text) from None

    def _tier_outputs_for_program(self) -> dict[str, dict[str, Any]]:
        """Every tier stack's outputs as a StackReference sees them (secret outputs stay secret)."""
        references = {}
        for stack in self.stacks.values():
            if "environment" in stack.outputs:
                outputs = {k: SecretValue(v) if k in _SECRET_OUTPUTS else v for k, v in stack.outputs.items()}
                references[f"{ORGANIZATION}/{PROJECT}/{stack.name}"] = outputs
        return references

    # -- plumbing --------------------------------------------------------------------------------
    def _resolve(self, stack: str) -> str:
        prefix = f"{ORGANIZATION}/{PROJECT}/"
        return stack.removeprefix(prefix)

    def _stack(self, operation: str, stack: str) -> FakeStack:
        self._record(operation, stack)
        if self.latency:
            time.sleep(self.latency)
        name = self._resolve(stack)
        if name not in self.stacks:
            raise StackNotFoundError(f"{operation} of stack {stack!r} failed: no such stack")
        return self.stacks[name]

    def _record(self, operation: str, stack: str) -> None:
        with self._lock:
            self.calls.append((operation, self._resolve(stack)))


def _update(kind: str, result: str) -> UpdateInfo:
    now = datetime.now(UTC)
    return UpdateInfo(kind, result, now, now)


def _ensure_event_loop() -> None:
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
