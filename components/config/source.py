"""Reads the raw stack configuration, as the engine hands it to the program.

The engine passes all config to the language host as one JSON map (``PULUMI_CONFIG``); tests set it
with ``pulumi.runtime.set_all_config``. Both are read here, once, so that unknown keys can be refused
(``pulumi.Config`` only answers for keys one already knows).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi.runtime import config as runtime_config


def raw_config() -> dict[str, Any]:
    """Every ``namespace:key`` set for this stack, later sources overriding earlier ones."""
    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged


def namespace_values(config: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """The keys of one namespace, without the prefix, with structured values decoded.

    Objects and arrays (``pulumi config set --path`` or YAML maps in the stack file) reach the program
    as JSON text; scalars stay strings and are coerced by the models.
    """
    prefix = f"{namespace}:"
    values: dict[str, Any] = {}
    for full_key, value in config.items():
        if full_key.startswith(prefix):
            values[full_key[len(prefix) :]] = _decode(value)
    return values


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value  # Not JSON after all; the model reports it against its key.
    return value


def secret_config_keys() -> set[str]:
    """The ``namespace:key`` names whose values are secrets (never echoed in errors)."""
    keys = set(runtime_config.get_config_secret_keys_env())
    keys.update(runtime_config._SECRET_KEYS.get())
    return keys
