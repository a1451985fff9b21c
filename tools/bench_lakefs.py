"""Benchmarks sandbox branch creation against data size: it must be O(1) in committed objects.

For each size, makes a repository holding that many committed objects, its default branch protected
as a tier's is, then runs the `Branch` provider's create exactly as a sandbox does (protection check
included) and counts the HTTP requests it makes (on the client side, so the count means the same on
any server) and its wall time. With `--copy` (the default against a real lakeFS), also times the
alternative the zero-copy branch avoids: copying every object server-side into a new branch,
`COPY_WORKERS` at a time. The exit code is 1 when the request count depends on data size.

Runs against the in-process fake by default (objects loaded straight into its state); its wall times
measure our client plus the fake, not lakeFS, and are printed for information only. With
LAKEFS_ENDPOINT, LAKEFS_ACCESS_KEY_ID and LAKEFS_SECRET_ACCESS_KEY set (and optionally
LAKEFS_STORAGE_NAMESPACE_PREFIX), it measures that real lakeFS: objects are uploaded over the API,
and the repositories are deleted afterwards.

Usage: ``python -m tools.bench_lakefs [--sizes 10 1000 100000] [--repeat N] [--copy | --no-copy]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import lakefs_sdk
from lakefs_sdk import rest

from components.lakefs.branch import BranchProvider
from tests.lakefs_fake import FakeLakeFSServer
from tests.lakefs_target import LakeFSTarget, real_lakefs_configured

ACCESS_KEY_ID = "AKIABENCH"
SECRET = "bench-secret"  # noqa: S105 - the in-process fake's throwaway key
FAKE_SIZES = [10, 1_000, 100_000]
REAL_SIZES = [100, 10_000]
"""A real lakeFS gets every object uploaded, so its default sizes stop at what uploads in a minute."""
COPY_WORKERS = 8


@dataclass(frozen=True)
class Measurement:
    """One `Branch` create: HTTP requests made (method, path) and seconds taken."""

    requests: list[tuple[str, str]]
    seconds: float


@contextmanager
def counting_requests() -> Iterator[list[tuple[str, str]]]:
    """Record (method, URL path) of every lakeFS API request made in this process meanwhile.

    A real lakeFS keeps no request log we could read, so the count is taken where every request
    leaves: lakefs-sdk's REST client.
    """
    seen: list[tuple[str, str]] = []
    original = rest.RESTClientObject.request

    def request(self: rest.RESTClientObject, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        seen.append((method.upper(), urlsplit(url).path))
        return original(self, method, url, *args, **kwargs)

    rest.RESTClientObject.request = request  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        rest.RESTClientObject.request = original  # type: ignore[method-assign]


def sandbox_like_repository(target: LakeFSTarget, objects: int) -> tuple[str, list[str]]:
    """A new repository with `objects` committed objects on a protected `main`; (name, paths)."""
    repo = target.new_repo()
    paths = target.load_committed(repo, "main", objects)
    target.set_rules(repo, ["main"])  # after loading: protection blocks commits to main
    return repo, paths


def measure_branch_create(target: LakeFSTarget, repo: str, branch: str = "sbx-bench") -> Measurement:
    """Create a sandbox branch from `main` as a sandbox does, counting requests and timing it."""
    props = {
        "connection": target.connection(),
        "repository": repo,
        "branch": branch,
        "sourceRef": "main",
        "requireProtectedDefault": True,
        "tierStack": "bench",
    }
    with counting_requests() as requests:
        start = time.perf_counter()
        BranchProvider().create(props)
        seconds = time.perf_counter() - start
    return Measurement(list(requests), seconds)


def measure_copy(target: LakeFSTarget, repo: str, paths: list[str]) -> float:
    """Seconds to copy every object of `main` server-side into a new branch, instead of branching."""
    branch = f"copy-{len(paths)}"
    with target.session() as s:
        s.branches.create_branch(repo, lakefs_sdk.BranchCreation(name=branch, source="main", hidden=None))
        objects = lakefs_sdk.ObjectsApi(s._client)

        def copy(path: str) -> None:
            creation = lakefs_sdk.ObjectCopyCreation(src_path=path, src_ref="main", force=None, shallow=None)
            objects.copy_object(repo, branch, f"copy/{path}", creation)

        start = time.perf_counter()
        with ThreadPoolExecutor(COPY_WORKERS) as pool:
            list(pool.map(copy, paths))
        return time.perf_counter() - start


@dataclass(frozen=True)
class Row:
    """The measurements at one data size."""

    size: int
    counts: set[int]
    """Request counts seen over the repeats (one value when the count is stable)."""
    median_seconds: float
    requests: list[tuple[str, str]]
    copy_seconds: float | None
    """Seconds to copy the objects instead (with --copy)."""


def _measure(target: LakeFSTarget, sizes: list[int], repeat: int, copy: bool) -> list[Row]:
    rows = []
    for size in sizes:
        runs, copy_seconds = [], None
        for _ in range(repeat):
            repo, paths = sandbox_like_repository(target, size)
            runs.append(measure_branch_create(target, repo))
            if copy and copy_seconds is None:
                copy_seconds = measure_copy(target, repo, paths)
        median = statistics.median(run.seconds for run in runs)
        rows.append(Row(size, {len(run.requests) for run in runs}, median, runs[0].requests, copy_seconds))
    return rows


def _report(rows: list[Row], where: str) -> int:
    print(f"sandbox branch create against {where}")
    print(f"{'committed objects':>18} {'HTTP requests':>14} {'median ms':>10} {'copy instead':>14}")
    for row in rows:
        counts = "/".join(map(str, sorted(row.counts)))
        copied = ""
        if row.copy_seconds is not None:
            copied = f"{row.copy_seconds:.2f} s ({row.copy_seconds / row.median_seconds:,.0f}x)"
        print(f"{row.size:>18,} {counts:>14} {row.median_seconds * 1000:>10.1f} {copied:>14}")
    print("requests of one create: " + ", ".join(f"{m} {p}" for m, p in rows[0].requests))
    all_counts = set().union(*(row.counts for row in rows))
    if len(all_counts) != 1:
        print(f"FAIL: request count depends on data size: {sorted(all_counts)}")
        return 1
    print("OK: the request count does not depend on data size")
    return 0


@contextmanager
def _target(tmp: Path, sizes: list[int] | None) -> Iterator[tuple[LakeFSTarget, list[int], str]]:
    """The lakeFS to measure, the sizes to measure at, and how to name it; cleaned up afterwards."""
    if real_lakefs_configured():
        target = LakeFSTarget.from_environment(tmp)
        try:
            yield target, sizes or REAL_SIZES, f"lakeFS at {target.endpoint}"
        finally:
            target.cleanup()
        return
    server = FakeLakeFSServer(ACCESS_KEY_ID, SECRET).start()
    try:
        target = LakeFSTarget.for_fake(server, tmp, timeout_seconds=60.0)
        yield target, sizes or FAKE_SIZES, "the in-process fake (wall times are the fake's, not lakeFS's)"
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sandbox branch creation vs. data size")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--copy",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also time copying the objects instead (default: on against a real lakeFS only)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, _target(Path(tmp), args.sizes) as (target, sizes, where):
        copy = args.copy if args.copy is not None else target.fake is None
        rows = _measure(target, sizes, args.repeat, copy)
    return _report(rows, where)


if __name__ == "__main__":
    sys.exit(main())
