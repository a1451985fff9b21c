"""Per-git-branch pipeline sandbox."""

from components.sandbox.component import Sandbox, SandboxArgs

__all__ = ["Sandbox", "SandboxArgs"]
