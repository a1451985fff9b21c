"""Benchmarks what users wait for: program evaluation per stack kind, and the import cost of the
sandbox path. Prints a table; it asserts nothing, because timings depend on the machine (the tests
assert behaviour, this measures it).

Usage: ``python -m tools.bench [--repeat N]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from tests.conftest import PROJECT_ROOT
from tools.plan import plan

SANDBOX = {
    "sandbox:branch": "feature/bench",
    "sandbox:owner": "bench@example.com",
    "sandbox:image": "r.example.com/p:1",
}


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def cold_import(module: str) -> float:
    """Seconds a fresh interpreter needs to import ``module`` (what `pulumi preview` pays first)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    result = subprocess.run(  # noqa: S603 - our own interpreter, a module name from this file
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    return float(result.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pipeline-sandbox benchmarks")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    rows: list[tuple[str, list[float]]] = []
    rows.append(("evaluate sandbox stack", timed(lambda: plan("bench-x", SANDBOX), args.repeat)))
    for stack in ("dev", "prod"):
        rows.append((f"evaluate tier stack {stack}", timed(lambda s=stack: plan(s, {}), args.repeat)))  # type: ignore[misc]
    rows.append(
        ("cold import components.sandbox", [cold_import("components.sandbox") for _ in range(args.repeat)])
    )
    rows.append(
        ("cold import pulumi_aws (avoided)", [cold_import("pulumi_aws") for _ in range(min(args.repeat, 2))])
    )
    print(f"{'benchmark':40} {'median s':>10} {'max s':>10}")
    for name, samples in rows:
        print(f"{name:40} {statistics.median(samples):10.3f} {max(samples):10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
