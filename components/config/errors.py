"""The one error type a user sees for bad stack configuration."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class ConfigProblem:
    """One offending key: where it is, what was given, what would be accepted."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ConfigError(pulumi.RunError):
    """Stack configuration is invalid; lists every offending ``namespace:key`` at once.

    A ``RunError``, so the engine shows the message without a Python traceback.
    """

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.key)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"invalid stack configuration ({len(self.problems)} problem(s)); nothing was deployed:\n{lines}"
        )

    @classmethod
    def single(cls, key: str, message: str) -> ConfigError:
        return cls([ConfigProblem(key, message)])
