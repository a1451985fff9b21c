"""Computed outputs the engine would fill in for generated values, shared by tests and `make plan`."""

from __future__ import annotations

from typing import Any


def _generated(args: Any) -> dict[str, Any]:
    return {"result": f"generated-{args.name}", "hex": "0f1e2d3c"}


# Placeholders instead of real random values: stable, and recognisable in a plan or a failing test.
SIMULATED: dict[str, Any] = {
    "random:index/randomPassword:RandomPassword": _generated,
    "random:index/randomString:RandomString": _generated,
    "random:index/randomId:RandomId": _generated,
}
