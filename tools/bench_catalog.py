"""Benchmarks seeding a sandbox's Hive metastore: 10 and 1,000 tables, each with partitions.

Starts a throwaway PostgreSQL (the distribution's packages), loads the real Hive metastore schema of
the pinned version (``bash .ci/fetch-hive-schema``), fills the tier's catalog and runs the exact seed
script the sandbox's seed Job runs, as the read-only role: a first seed, then a rerun (which must
change nothing). Half the tables are on the source ref, a tenth elsewhere (removed by the seed).
Wall time on this machine, printed for information; the exit code says only whether it could run.

Usage: ``python -m tools.bench_catalog [--tables 10 1000] [--partitions 10]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.hive_catalog import TABLE_LOCATIONS, Catalog, HiveSchemaMissing, MetastoreTier, hive_schema
from tests.postgres_server import PostgresMissing, TempPostgres

MAIN = "s3a://pipeline/main"


def catalog(tables: int, partitions: int) -> Catalog:
    """``tables`` tables over ten databases; every tenth one located outside the source ref."""
    built = Catalog()
    for db in range(10):
        built.database(f"db{db}", f"{MAIN}/warehouse/db{db}.db")
    for n in range(tables):
        base = f"{MAIN}/warehouse/db{n % 10}.db/t{n}" if n % 10 else f"s3a://other-bucket/t{n}"
        parts = [(f"2026-01-{d + 1:02d}", f"{base}/day=2026-01-{d + 1:02d}") for d in range(partitions)]
        built.table(f"db{n % 10}", f"t{n}", base, partitions=parts)
    return built


def measure(server: TempPostgres, schema: Path, tables: int, partitions: int) -> tuple[float, float, int]:
    for database in ("metastore", "sandbox_metastore"):
        server.psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    tier = MetastoreTier.create(server, schema)
    tier.load(catalog(tables, partitions))
    start = time.perf_counter()
    tier.seed()
    first = time.perf_counter() - start
    start = time.perf_counter()
    _, log = tier.seed()
    again = time.perf_counter() - start
    if "already seeded" not in log:
        raise AssertionError("the second seed changed the catalog")
    return first, again, len(tier.sandbox_psql(TABLE_LOCATIONS).splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sandbox metastore seeding time vs. catalog size")
    parser.add_argument("--tables", type=int, nargs="+", default=[10, 1_000])
    parser.add_argument("--partitions", type=int, default=10, help="partitions per table")
    args = parser.parse_args(argv)
    try:
        schema = hive_schema()
        server = TempPostgres()
    except (PostgresMissing, HiveSchemaMissing) as missing:
        print(f"bench_catalog: cannot run: {missing}", file=sys.stderr)
        return 2
    print(f"{'tables':>8} {'partitions':>11} {'kept tables':>12} {'first seed s':>13} {'rerun s':>8}")
    with server:
        for tables in args.tables:
            first, again, kept = measure(server, schema, tables, args.partitions)
            print(f"{tables:>8,} {tables * args.partitions:>11,} {kept:>12,} {first:>13.2f} {again:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
