"""The Sandbox component: root of every per-branch sandbox stack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pulumi

from components.config import SandboxStackConfig
from components.sandbox.lease import SandboxLease


@dataclass(frozen=True)
class SandboxArgs:
    """Inputs of :class:`Sandbox`."""

    settings: SandboxStackConfig


class Sandbox(pulumi.ComponentResource):
    """A pipeline sandbox for one git branch."""

    expires_at: pulumi.Output[str]
    """When the sandbox should be reclaimed (first creation + ttl), ISO 8601 with UTC offset."""

    def __init__(self, name: str, args: SandboxArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pipeline-sandbox:sandbox:Sandbox", name, None, opts)
        self._settings = args.settings
        self.lease = self._create_lease(name)
        self.expires_at = self.lease.expiresAt
        self.expires_at.apply(self._warn_if_expired)
        self.register_outputs(self.stack_outputs())

    def _create_lease(self, name: str) -> SandboxLease:
        settings = self._settings
        return SandboxLease(
            f"{name}-lease",
            git_branch=settings.git_branch,
            branch_is_explicit=settings.branch_is_explicit,
            owner=settings.owner,
            ttl=settings.config.ttl,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _warn_if_expired(self, expires_at: str | None) -> None:
        if expires_at and datetime.fromisoformat(expires_at) <= datetime.now(UTC):
            pulumi.log.warn(
                f"sandbox {self._settings.names.namespace} expired at {expires_at}; reclaim it with "
                "`pulumi destroy`, or extend it with `pulumi config set sandbox:ttl <longer>`",
                self,
            )

    def stack_outputs(self) -> dict[str, Any]:
        """The stack outputs of a sandbox stack (camelCase, the contract users script against)."""
        names = self._settings.names
        return {
            "gitBranch": self._settings.git_branch,
            "lakefsBranch": names.lakefs_branch,
            "namespace": names.namespace,
            "owner": self._settings.owner,
            "expiresAt": self.expires_at,
        }
