"""Benchmarks `pipeline-sandbox list` over many sandbox stacks: stacks read concurrently.

Builds N sandbox stacks (default 200) in the fake stack backend, each read with a simulated per-call
latency standing in for one Pulumi CLI call (``--latency``, default 20 ms), and their N lakeFS
branches in the fake lakeFS over HTTP; then times the whole command (``list --json``) at the default
parallelism and, for comparison, one stack at a time. Exit code 1 when the default run misses the
target (``--target``, default 5 s). Wall time against fakes measures the command's own work and its
concurrency, not a real backend's speed.

Usage: ``python -m tools.bench_cli [--stacks 200] [--latency 0.02] [--target 5]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
from datetime import UTC, datetime, timedelta

from pipeline_sandbox_cli.main import main as cli
from tests.cli.fake_backend import FakeBackend, FakeStack
from tests.conftest import PROJECT_ROOT
from tests.lakefs_fake import FakeLakeFSServer

ACCESS_KEY_ID = "AKIABENCH"
SECRET = "bench-secret"  # noqa: S105 - the in-process fake's throwaway key
REPOSITORY = "pipeline"


def build(stacks: int, latency: float, server: FakeLakeFSServer) -> FakeBackend:
    """A backend with one prod tier and ``stacks`` sandboxes, each with a branch on the fake lakeFS."""
    backend = FakeBackend(latency=latency)
    state = server.state
    now = datetime.now(UTC)
    with state.lock:
        state.create_repository({"name": REPOSITORY, "storage_namespace": "mem://bench-cli"})
        for i in range(stacks):
            branch = f"sbx-bench-{i:04d}"
            source = state.create_branch(REPOSITORY, {"name": branch, "source": "main"})
            state.stage(REPOSITORY, branch, f"out/{i}.parquet")
            backend.add(
                FakeStack(
                    branch,
                    {
                        "gitBranch": f"bench-{i:04d}",
                        "lakefsBranch": branch,
                        "sourceCommit": source,
                        "owner": "bench@example.com",
                        "createdAt": now.isoformat(),
                        "expiresAt": (now + timedelta(days=i % 9 - 2)).isoformat(),
                        "paused": False,
                    },
                )
            )
    backend.add(
        FakeStack(
            "prod",
            {
                "environment": "prod",
                "lakefsEndpoint": server.endpoint,
                "lakefsRepository": REPOSITORY,
                "lakefsAccessKeyId": ACCESS_KEY_ID,
                "lakefsSecretAccessKey": SECRET,
            },
        )
    )
    return backend


def timed_list(backend: FakeBackend, parallel: int) -> tuple[float, int, int]:
    """Seconds one `list --json` takes, its exit code and the rows it printed."""
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli(
            ["--project-dir", str(PROJECT_ROOT), "--parallel", str(parallel), "list", "--json"],
            backend=backend,
        )
    seconds = time.perf_counter() - start
    return seconds, code, len(json.loads(out.getvalue())["sandboxes"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pipeline-sandbox list over many stacks")
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per simulated CLI call")
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--target", type=float, default=5.0)
    args = parser.parse_args(argv)
    server = FakeLakeFSServer(ACCESS_KEY_ID, SECRET).start()
    try:
        backend = build(args.stacks, args.latency, server)
        concurrent, code, rows = timed_list(backend, args.parallel)
        sequential, _, _ = timed_list(backend, 1)
    finally:
        server.stop()
    reads = args.stacks * 2  # outputs and latest update of each stack
    print(
        f"list over {rows} sandbox stacks ({reads} backend reads at {args.latency * 1000:.0f} ms each, "
        f"{args.stacks} lakeFS branches)"
    )
    print(f"{'parallel':>10} {'seconds':>10}")
    print(f"{args.parallel:>10} {concurrent:>10.2f}")
    print(f"{1:>10} {sequential:>10.2f}")
    if code != 0 or rows != args.stacks:
        print(f"FAIL: list exited {code} with {rows} rows")
        return 1
    if concurrent > args.target:
        print(f"FAIL: {concurrent:.2f} s is over the {args.target:.1f} s target")
        return 1
    print(
        f"OK: under the {args.target:.1f} s target ({sequential / concurrent:.1f}x faster than one at a time)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
