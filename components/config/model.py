"""Base model for stack configuration and the translation of pydantic errors into ConfigProblems."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from components.config.errors import ConfigProblem


class ConfigModel(BaseModel):
    """Strict, immutable config: camelCase keys as users write them, unknown keys refused."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        validate_default=True,
    )

    @classmethod
    def accepted_keys(cls) -> list[str]:
        return sorted((f.alias or name) for name, f in cls.model_fields.items())


def problems_from_validation(
    namespace: str, model: type[ConfigModel], error: ValidationError, secret_keys: set[str]
) -> list[ConfigProblem]:
    """One readable problem per pydantic error, keyed ``namespace:key.sub[0]``; never echoes secrets."""
    problems = []
    for detail in error.errors():
        loc = detail["loc"]
        key = _key_name(namespace, loc)
        message = _message(model, detail, repr(detail.get("input")))
        if loc and f"{namespace}:{loc[0]}" in secret_keys:
            message = _redact(message, detail.get("input"))
        if not loc and message.startswith(f"{namespace}:"):
            # Cross-field rules (model validators) name their key first: "tier:aws is required ...".
            key, _, message = message.partition(" ")
        problems.append(ConfigProblem(key, message))
    return problems


def _redact(message: str, value: object) -> str:
    for form in (repr(value), str(value)):
        if form:
            message = message.replace(form, "<secret>")
    return message


def _key_name(namespace: str, loc: Sequence[int | str]) -> str:
    if not loc:
        return f"{namespace}:"
    name = f"{namespace}:{loc[0]}"
    for part in loc[1:]:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name


def _message(model: type[ConfigModel], detail: Any, given: str) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        accepted = _model_at(model, detail["loc"][:-1])
        keys = ", ".join(accepted.accepted_keys()) if accepted else "none"
        return f"unknown key; accepted keys here: {keys}"
    if kind == "missing":
        return "required but not set"
    if kind == "value_error":
        # Our validators already say what is accepted and what was given.
        return str(detail["ctx"]["error"])
    text = str(detail["msg"])
    text = text.replace("Input should be", "expected").replace("Value error, ", "")
    return f"{text[:1].lower()}{text[1:]}, got {given}"


def _model_at(model: type[ConfigModel], loc: Sequence[int | str]) -> type[ConfigModel] | None:
    """The nested model that the path ``loc`` points into, for listing its keys."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, ConfigModel)):
            return None
        field = next(
            (f for n, f in current.model_fields.items() if (f.alias or n) == part),
            None,
        )
        if field is None:
            return None
        current = field.annotation
        if not (isinstance(current, type) and issubclass(current, ConfigModel)):
            current = _first_model(current)
    return current if isinstance(current, type) and issubclass(current, ConfigModel) else None


def _first_model(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()):
        if isinstance(arg, type) and issubclass(arg, ConfigModel):
            return arg
    return annotation
