"""The stack backend: the few stack operations the command needs, behind one small interface.

:class:`StackBackend` is what every subcommand talks to. The real implementation
(:mod:`pipeline_sandbox_cli.pulumi_backend`) drives the Pulumi Automation API against the backend the
user is logged in to; tests drive a fake of this interface. Nothing here imports Pulumi.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

OnOutput = Callable[[str], None]
"""Receives the engine's progress, one line at a time."""


@dataclass(frozen=True)
class StackSummary:
    """One stack as the backend lists it."""

    name: str
    last_update: datetime | None = None
    update_in_progress: bool = False


@dataclass(frozen=True)
class UpdateInfo:
    """The latest update of a stack (``pulumi stack history``'s first entry)."""

    kind: str
    """``update``, ``destroy``, ``refresh``, ..."""
    result: str
    """``succeeded``, ``failed`` or ``in-progress``."""
    start_time: datetime | None = None
    end_time: datetime | None = None


class BackendError(Exception):
    """A stack operation failed; the message carries what the engine said (never a secret).

    Args:
        message: One line: what failed and the engine's error lines.
        detail: Everything the engine printed, to classify the failure by (e.g. a refused delete).
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


class StackNotFoundError(BackendError):
    """No stack of that name exists in the backend."""


class PulumiUnavailableError(BackendError):
    """The Pulumi CLI the Automation API drives is missing or cannot be used."""


class StackBackend(Protocol):
    """Stack operations used by the command. Every method may raise :class:`BackendError`."""

    def list_stacks(self) -> list[StackSummary]:
        """Every stack of the project in the current backend."""
        ...

    def outputs(self, stack: str) -> dict[str, Any]:
        """The stack's outputs, secrets included as plain values (callers never print secrets)."""
        ...

    def config(self, stack: str) -> dict[str, str]:
        """The stack's config as ``namespace:key`` -> value (empty when no config exists here)."""
        ...

    def last_update(self, stack: str) -> UpdateInfo | None:
        """The stack's latest update, or None for a stack that never ran one."""
        ...

    def exists(self, stack: str) -> bool:
        """Whether a stack of that name exists."""
        ...

    def create_or_select(self, stack: str) -> None:
        """Selects the stack, creating it first when it does not exist."""
        ...

    def set_config(self, stack: str, key: str, value: str) -> None:
        """Sets one plain config value (``namespace:key``)."""
        ...

    def up(self, stack: str, on_output: OnOutput) -> dict[str, Any]:
        """Runs the program (``pulumi up``) and returns the new outputs."""
        ...

    def destroy(self, stack: str, on_output: OnOutput, env: Mapping[str, str]) -> None:
        """Deletes every resource of the stack (``pulumi destroy``); ``env`` reaches the providers."""
        ...

    def remove_stack(self, stack: str) -> None:
        """Removes an empty stack (``pulumi stack rm``)."""
        ...


def engine_error_summary(text: str, lines: int = 4) -> str:
    """The lines of an engine run that say what went wrong (its error lines, else its tail)."""
    body = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in body if "error" in line.lower() or "refusing" in line.lower()]
    chosen = (errors or body)[-lines:]
    return " | ".join(chosen) if chosen else "no output"
