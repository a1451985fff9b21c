"""Human durations such as ``12h``, ``7d`` or ``2w`` for sandbox lifetimes."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_PATTERN = re.compile(r"^\s*([0-9]+)\s*([hdw])\s*$")
# A year is far beyond any sensible sandbox lifetime; refusing it catches unit typos (e.g. 700d).
MAX_DURATION = timedelta(days=366)
EXPECTED = "expected a duration such as 12h, 7d or 2w (a positive whole number of h, d or w, at most 366d)"


def parse_duration(value: object) -> timedelta:
    """Parses ``<n><unit>`` with unit h, d or w into a positive timedelta.

    Raises:
        ValueError: the value is not such a duration; the message says what is accepted.
    """
    if isinstance(value, timedelta):
        parsed = value
    else:
        match = _PATTERN.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f"{EXPECTED}, got {value!r}")
        parsed = int(match.group(1)) * _UNITS[match.group(2)]
    if parsed <= timedelta(0) or parsed > MAX_DURATION:
        raise ValueError(f"{EXPECTED}, got {value!r}")
    return parsed


def format_duration(value: timedelta) -> str:
    """The shortest ``<n><unit>`` spelling of a duration parsed by :func:`parse_duration`."""
    hours = int(value.total_seconds() // 3600)
    for unit, size in (("w", 24 * 7), ("d", 24)):
        if hours % size == 0:
            return f"{hours // size}{unit}"
    return f"{hours}h"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]
