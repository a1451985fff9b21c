"""Stack configuration: typed models for tier and sandbox stacks, validated before any resource."""

from components.config.errors import ConfigError, ConfigProblem
from components.config.loader import (
    SandboxStackConfig,
    StackConfig,
    TierStackConfig,
    load_stack_config,
)
from components.config.sandbox import SandboxConfig
from components.config.tier import Environment, Platform, TierConfig

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "Environment",
    "Platform",
    "SandboxConfig",
    "SandboxStackConfig",
    "StackConfig",
    "TierConfig",
    "TierStackConfig",
    "load_stack_config",
]
