"""Benchmarks sandbox branch creation against data size: it must be O(1) in committed objects.

For repositories holding 10, 1,000 and 100,000 committed objects (loaded straight into the fake's
state, no HTTP), runs the `Branch` provider's `create` over HTTP against the fake lakeFS and counts
the requests it makes and the wall time. The request counts must be identical across sizes; the
exit code is 1 when they are not. Wall time against the fake measures our client plus the fake, not
lakeFS itself, so it is printed for information only.

Usage: ``python -m tools.bench_lakefs [--sizes 10 1000 100000] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass

from components.lakefs.branch import BranchProvider
from tests.lakefs_fake import FakeLakeFSServer

ACCESS_KEY_ID = "AKIABENCH"
SECRET = "bench-secret"  # noqa: S105 - the in-process fake's throwaway key


@dataclass(frozen=True)
class Measurement:
    """One `Branch` create: HTTP requests made (by method and path) and seconds taken."""

    requests: list[tuple[str, str]]
    seconds: float


def measure_branch_create(server: FakeLakeFSServer, objects: int, branch: str = "sbx-bench") -> Measurement:
    """Create a sandbox branch from `main` of a new repository holding `objects` committed objects."""
    repo = f"bench-{objects}-{len(server.state.repos)}"
    with server.state.lock:
        server.state.create_repository({"name": repo, "storage_namespace": f"mem://bench/{repo}"})
        server.state.load_committed(repo, "main", objects)
    props = {
        "connection": {
            "endpoint": server.endpoint,
            "accessKeyId": ACCESS_KEY_ID,
            "secretAccessKey": SECRET,
            "timeoutSeconds": 60.0,
        },
        "repository": repo,
        "branch": branch,
        "sourceRef": "main",
    }
    server.faults.clear()
    start = time.perf_counter()
    BranchProvider().create(props)
    seconds = time.perf_counter() - start
    return Measurement(list(server.faults.requests), seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sandbox branch creation vs. data size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    server = FakeLakeFSServer(ACCESS_KEY_ID, SECRET).start()
    try:
        rows = []
        for size in args.sizes:
            runs = [measure_branch_create(server, size) for _ in range(args.repeat)]
            counts = {len(run.requests) for run in runs}
            rows.append((size, counts, statistics.median(run.seconds for run in runs), runs[0].requests))
    finally:
        server.stop()
    print(f"{'committed objects':>18} {'HTTP requests':>14} {'median ms':>10}")
    for size, counts, seconds, _ in rows:
        print(f"{size:>18,} {'/'.join(map(str, sorted(counts))):>14} {seconds * 1000:>10.1f}")
    print("requests of one create: " + ", ".join(f"{m} {p}" for m, p in rows[0][3]))
    all_counts = set().union(*(counts for _, counts, _, _ in rows))
    if len(all_counts) != 1:
        print(f"FAIL: request count depends on data size: {sorted(all_counts)}")
        return 1
    print("OK: the request count does not depend on data size")
    return 0


if __name__ == "__main__":
    sys.exit(main())
