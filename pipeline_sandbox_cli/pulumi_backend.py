"""The stack backend on the Pulumi Automation API: the backend the user is logged in to, this project.

Reading a stack (outputs, config, history) never selects it: ``pulumi stack select`` would change the
user's current stack, and many stacks are read at once. ``up`` selects (creates) the stack it deploys,
as ``pulumi up`` on a branch would.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pulumi import automation as auto

from pipeline_sandbox_cli.backend import (
    BackendError,
    OnOutput,
    PulumiUnavailableError,
    StackNotFoundError,
    StackSummary,
    UpdateInfo,
    engine_error_summary,
)

_INSTALL_HINT = (
    "pipeline-sandbox drives the Pulumi CLI (3.180 or later) through the Automation API: install it "
    "(https://www.pulumi.com/docs/install/) and log in to your backend (`pulumi login`)"
)


class _Unselected(auto.Stack):
    """A stack handle that skips ``Stack.__init__``'s ``pulumi stack select``; every command still
    names its stack with ``--stack``."""

    def __init__(self, name: str, workspace: auto.LocalWorkspace) -> None:
        self.name = name
        self.workspace = workspace


class PulumiBackend:
    """:class:`~pipeline_sandbox_cli.backend.StackBackend` over ``pulumi.automation``.

    Args:
        project_dir: Directory of the project's ``Pulumi.yaml`` (the program, its venv and stack files).
    """

    def __init__(self, project_dir: Path) -> None:
        self._project_dir = project_dir
        self._workspaces: dict[frozenset[tuple[str, str]], auto.LocalWorkspace] = {}
        self._lock = threading.Lock()

    def _workspace(self, env: Mapping[str, str] | None = None) -> auto.LocalWorkspace:
        # One workspace per environment: its env_vars reach every command it runs, and with it the
        # providers the engine starts (the destroy-time opt-ins are read there).
        key = frozenset((env or {}).items())
        with self._lock:
            if key not in self._workspaces:
                try:
                    self._workspaces[key] = auto.LocalWorkspace(
                        work_dir=str(self._project_dir), env_vars=dict(env or {})
                    )
                except FileNotFoundError:
                    raise PulumiUnavailableError(f"no `pulumi` command on PATH; {_INSTALL_HINT}") from None
                except auto.InvalidVersionError as exc:
                    raise PulumiUnavailableError(f"{exc}; {_INSTALL_HINT}") from None
            return self._workspaces[key]

    def list_stacks(self) -> list[StackSummary]:
        with _mapped("listing stacks"):
            stacks = self._workspace().list_stacks()
        return [StackSummary(s.name, s.last_update, bool(s.update_in_progress)) for s in stacks]

    def outputs(self, stack: str) -> dict[str, Any]:
        with _mapped(f"reading the outputs of stack {stack!r}"):
            values = self._workspace().stack_outputs(stack)
        return {name: value.value for name, value in values.items()}

    def config(self, stack: str) -> dict[str, str]:
        with _mapped(f"reading the config of stack {stack!r}"):
            values = self._workspace().get_all_config(stack)
        return {key: str(value.value) for key, value in values.items()}

    def last_update(self, stack: str) -> UpdateInfo | None:
        with _mapped(f"reading the history of stack {stack!r}"):
            history = _Unselected(stack, self._workspace()).history(page_size=1, show_secrets=False)
        if not history:
            return None
        latest = history[0]
        return UpdateInfo(latest.kind, latest.result, latest.start_time, latest.end_time)

    def exists(self, stack: str) -> bool:
        return any(summary.name == stack for summary in self.list_stacks())

    def create_or_select(self, stack: str) -> None:
        with _mapped(f"selecting stack {stack!r}"):
            auto.Stack.create_or_select(stack, self._workspace())

    def set_config(self, stack: str, key: str, value: str) -> None:
        with _mapped(f"setting {key} on stack {stack!r}"):
            self._workspace().set_config(stack, key, auto.ConfigValue(value=value))

    def up(self, stack: str, on_output: OnOutput) -> dict[str, Any]:
        with _mapped(f"`pulumi up` of stack {stack!r}"):
            result = _Unselected(stack, self._workspace()).up(on_output=on_output, color="never")
        return {name: value.value for name, value in result.outputs.items()}

    def destroy(self, stack: str, on_output: OnOutput, env: Mapping[str, str]) -> None:
        with _mapped(f"`pulumi destroy` of stack {stack!r}"):
            _Unselected(stack, self._workspace(env)).destroy(on_output=on_output, color="never")

    def remove_stack(self, stack: str) -> None:
        with _mapped(f"removing stack {stack!r}"):
            self._workspace().remove_stack(stack)


class _mapped:
    """Turns Automation API errors into :class:`BackendError` with what the engine said."""

    def __init__(self, action: str) -> None:
        self._action = action

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> Literal[False]:
        if exc is None or isinstance(exc, BackendError):
            return False
        if isinstance(exc, auto.StackNotFoundError):
            raise StackNotFoundError(f"{self._action} failed: no such stack") from None
        if isinstance(exc, auto.CommandError):
            detail = str(exc)
            raise BackendError(f"{self._action} failed: {engine_error_summary(detail)}", detail) from None
        return False
