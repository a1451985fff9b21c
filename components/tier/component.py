"""The Tier component: root of the shared-tier stacks (dev, stage, prod)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.config import TierStackConfig


@dataclass(frozen=True)
class TierArgs:
    """Inputs of :class:`Tier`."""

    stack: str
    settings: TierStackConfig


class Tier(pulumi.ComponentResource):
    """The shared tier: infrastructure every sandbox of this environment builds on."""

    def __init__(self, name: str, args: TierArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-sandbox:tier:Tier", name, None, opts)
        self._config = args.settings.config
        self.register_outputs(self.stack_outputs())

    def stack_outputs(self) -> dict[str, Any]:
        """The tier's output contract, read by sandboxes through a StackReference."""
        return {
            "environment": self._config.environment.value,
            "versions": self._config.versions.model_dump(by_alias=True),
        }
