"""The sandbox catalog seed, run for real: PostgreSQL from the distribution's packages, the real Hive
metastore schema of the pinned version, the project's own bootstrap script for roles, and the exact
``seed.sh``/``seed.sql`` the seed Job runs, reading the tier as the read-only role.

Needs PostgreSQL's server binaries and ``bash .ci/fetch-hive-schema``; outside CI a missing one skips
these tests, in CI (``CI=true``) it fails them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.hive_catalog import (
    DATABASE_LOCATIONS,
    PARTITION_LOCATIONS,
    PASSWORDS,
    READER,
    TABLE_LOCATIONS,
    TIER_DATABASE,
    Catalog,
    HiveSchemaMissing,
    MetastoreTier,
    as_map,
    hive_schema,
)
from tests.postgres_server import PostgresMissing, TempPostgres

pytestmark = pytest.mark.postgres

BRANCH = "sbx-feature-orders"
MAIN = "s3a://pipeline/main"
ON_BRANCH = f"s3a://pipeline/{BRANCH}"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI must provide it: see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server() -> Iterator[TempPostgres]:
    try:
        pg = TempPostgres()
    except PostgresMissing as missing:
        _unavailable(str(missing))
    with pg:
        yield pg


@pytest.fixture
def tier(server: TempPostgres) -> Iterator[MetastoreTier]:
    """A fresh tier metastore database (and empty sandbox database) per test."""
    try:
        schema = hive_schema()
    except HiveSchemaMissing as missing:
        _unavailable(str(missing))
    for database in ("metastore", "sandbox_metastore"):
        server.psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    yield MetastoreTier.create(server, schema)


def production_catalog() -> Catalog:
    """Tables on main (three URI forms, partitioned, a view) and tables the sandbox must not get."""
    return (
        Catalog()
        .database("default", "file:/opt/hive/data/warehouse")
        .database("sales", f"{MAIN}/warehouse/sales.db", managed_location=f"{MAIN}/managed/sales.db")
        .database("scratch", "s3a://other-bucket/scratch.db")
        .table(
            "sales",
            "orders",
            f"{MAIN}/warehouse/sales.db/orders",
            partitions=[
                ("2026-01-01", f"{MAIN}/warehouse/sales.db/orders/day=2026-01-01"),
                ("2026-01-02", "s3://pipeline/main/landing/orders/day=2026-01-02"),
            ],
        )
        .table(
            "sales",
            "customers",
            "lakefs://pipeline/main/customers",
            skewed_location="lakefs://pipeline/main/c/42",
        )
        .table("sales", "orders_view", None, table_type="VIRTUAL_VIEW")
        .table("default", "events", "s3://pipeline/main")
        # Not on main: another branch of the repository, another bucket, a look-alike branch name.
        .table("sales", "experiments", "s3a://pipeline/alice-branch/experiments")
        .table("scratch", "dump", "s3a://other-bucket/scratch.db/dump")
        .table("sales", "main_old", "s3a://pipeline/main_old/x")
        # On main, but one partition elsewhere: the whole table goes, not just the partition.
        .table(
            "sales",
            "returns",
            f"{MAIN}/returns",
            partitions=[
                ("2026-01-01", f"{MAIN}/returns/day=2026-01-01"),
                ("2026-01-02", "hdfs://nn/returns/d2"),
            ],
        )
    )


def test_tables_on_the_source_ref_end_up_on_the_sandbox_branch(tier: MetastoreTier) -> None:
    tier.load(production_catalog())

    tier.seed()

    assert as_map(tier.sandbox_psql(TABLE_LOCATIONS)) == {
        "sales.orders": f"{ON_BRANCH}/warehouse/sales.db/orders",
        "sales.customers": f"lakefs://pipeline/{BRANCH}/customers",
        "sales.orders_view": "",
        "default.events": f"s3://pipeline/{BRANCH}",
    }
    assert as_map(tier.sandbox_psql(PARTITION_LOCATIONS)) == {
        "sales.orders/day=2026-01-01": f"{ON_BRANCH}/warehouse/sales.db/orders/day=2026-01-01",
        "sales.orders/day=2026-01-02": f"s3://pipeline/{BRANCH}/landing/orders/day=2026-01-02",
    }
    skewed = tier.sandbox_psql('SELECT "LOCATION" FROM "SKEWED_COL_VALUE_LOC_MAP"').split()
    assert skewed == [f"lakefs://pipeline/{BRANCH}/c/42"]
    # Columns, partition values and parameters come along unchanged.
    assert (
        tier.sandbox_psql('SELECT count(*) FROM "COLUMNS_V2"').strip()
        == tier.owner_psql(
            'SELECT count(*) FROM "COLUMNS_V2" c JOIN "SDS" s ON s."CD_ID" = c."CD_ID" '
            'JOIN "TBLS" t ON t."SD_ID" = s."SD_ID" '
            "WHERE t.\"TBL_NAME\" IN ('orders', 'customers', 'orders_view', 'events')"
        ).strip()
    )
    assert tier.sandbox_psql('SELECT "PART_KEY_VAL" FROM "PARTITION_KEY_VALS" ORDER BY 1').split() == [
        "2026-01-01",
        "2026-01-02",
    ]


def test_tables_elsewhere_are_removed_named_in_the_log_and_the_report(tier: MetastoreTier) -> None:
    tier.load(production_catalog())

    _, log = tier.seed()

    removed = {"sales.experiments", "scratch.dump", "sales.main_old", "sales.returns"}
    for name in removed:
        assert f"metastore seed: removed {name} (location outside pipeline/main)" in log
    assert "4 tables removed" in log
    report = tier.sandbox_psql(
        "SELECT database_name || '.' || table_name FROM pipeline_sandbox.seed_report ORDER BY 1"
    ).split()
    assert set(report) == removed
    # Nothing of them is left behind: no rows for their partitions, storage, stats or parameters.
    for table in ("PARTITIONS", "TAB_COL_STATS", "SDS", "SERDES", "CDS"):
        count = int(tier.sandbox_psql(f'SELECT count(*) FROM "{table}"'))
        expected = {"PARTITIONS": 2, "TAB_COL_STATS": 4, "SDS": 6, "SERDES": 6, "CDS": 4}[table]
        assert count == expected, table


def test_no_location_in_the_sandbox_catalog_is_outside_its_branch(tier: MetastoreTier) -> None:
    tier.load(production_catalog())

    tier.seed()

    databases = as_map(tier.sandbox_psql(DATABASE_LOCATIONS))
    assert databases == {
        # Database locations are defaults for new tables: one not on main is re-pointed.
        "default": f"{ON_BRANCH}/_sandbox_warehouse/default.db",
        "sales": f"{ON_BRANCH}/warehouse/sales.db",
        "scratch": f"{ON_BRANCH}/_sandbox_warehouse/scratch.db",
    }
    managed = tier.sandbox_psql("""SELECT "DB_MANAGED_LOCATION_URI" FROM "DBS" WHERE "NAME" = 'sales'""")
    assert managed.strip() == f"{ON_BRANCH}/managed/sales.db"
    every_location = tier.sandbox_psql(
        'SELECT "LOCATION" FROM "SDS" WHERE "LOCATION" IS NOT NULL '
        'UNION ALL SELECT "LOCATION_URI" FROM "CTLGS" UNION ALL SELECT "DB_LOCATION_URI" FROM "DBS"'
    ).split()
    assert every_location
    assert all(f"://pipeline/{BRANCH}" in location for location in every_location), every_location


def test_the_tiers_catalog_is_unchanged(tier: MetastoreTier) -> None:
    tier.load(production_catalog())
    everything = "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {} t"
    tables = tier.owner_psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").split()
    before = {name: tier.owner_psql(everything.format(f'"{name}"')) for name in tables}

    tier.seed()

    after = {name: tier.owner_psql(everything.format(f'"{name}"')) for name in tables}
    assert after == before
    assert "s3a://pipeline/alice-branch/experiments" in tier.owner_psql(TABLE_LOCATIONS)


def test_seeding_twice_changes_nothing_and_keeps_the_sandboxs_own_tables(tier: MetastoreTier) -> None:
    tier.load(production_catalog())
    tier.seed()
    # The sandbox creates a table of its own (as its metastore would).
    tier.sandbox_psql("""UPDATE "TBLS" SET "TBL_NAME" = 'orders_v2' WHERE "TBL_NAME" = 'orders'""")
    before = tier.sandbox_psql(TABLE_LOCATIONS)

    _, log = tier.seed()

    assert "already seeded" in log
    assert tier.sandbox_psql(TABLE_LOCATIONS) == before


def test_a_newer_snapshot_reseeds_and_keeps_the_previous_catalog(tier: MetastoreTier) -> None:
    tier.load(production_catalog())
    tier.seed()
    tier.sandbox_psql("""UPDATE "TBLS" SET "TBL_NAME" = 'orders_v2' WHERE "TBL_NAME" = 'orders'""")

    _, log = tier.seed(seed_id="seed-2", source_commit="beef" + "0" * 60)

    assert "the previous catalog is kept as schema catalog_before_" in log
    assert "sales.orders|" in tier.sandbox_psql(TABLE_LOCATIONS)
    archive = tier.sandbox_psql(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'catalog_before_%'"
    ).strip()
    assert "orders_v2" in tier.sandbox_psql(f'SELECT "TBL_NAME" FROM {archive}."TBLS"')


def test_locations_on_the_source_commit_id_are_rewritten_too(tier: MetastoreTier) -> None:
    commit = "abc123" + "0" * 58
    tier.load(
        Catalog()
        .database("sales", f"s3a://pipeline/{commit}/sales.db")
        .table("sales", "t", f"s3a://pipeline/{commit}/t")
    )

    tier.seed(source_ref="v2", source_commit=commit)

    assert as_map(tier.sandbox_psql(TABLE_LOCATIONS)) == {"sales.t": f"{ON_BRANCH}/t"}


def test_an_include_list_keeps_only_the_named_databases(tier: MetastoreTier) -> None:
    tier.load(production_catalog())

    _, log = tier.seed(include_databases=["sales"])

    assert set(as_map(tier.sandbox_psql(DATABASE_LOCATIONS))) == {"sales"}
    assert "metastore seed: removed database scratch (database not in include_databases)" in log
    assert "default.events" not in tier.sandbox_psql(TABLE_LOCATIONS)


def test_the_reader_role_reads_the_tier_but_cannot_change_it(tier: MetastoreTier) -> None:
    # As on a brand-new tier: the bootstrap ran before Hive's schema script, which ends with
    # GRANT ALL ON SCHEMA public TO PUBLIC; no later bootstrap run takes anything back.
    tier.load(production_catalog())

    assert int(tier.reader_psql('SELECT count(*) FROM "TBLS"')) == 8
    attempts = [
        """UPDATE "SDS" SET "LOCATION" = 'x'""",
        """BEGIN READ WRITE; UPDATE "SDS" SET "LOCATION" = 'x'; COMMIT;""",
        'CREATE TABLE "SNEAKY" (id int)',
        'BEGIN READ WRITE; CREATE TABLE "SNEAKY" (id int); COMMIT;',
        'BEGIN READ WRITE; DROP TABLE "TBLS"; COMMIT;',
    ]
    for sql in attempts:
        result = tier.server.psql(
            sql, user=READER, password=PASSWORDS[READER], database=TIER_DATABASE, check=False
        )
        assert result.returncode != 0, sql
        assert (
            "read-only transaction" in result.stderr
            or "permission denied" in result.stderr
            or "must be owner" in result.stderr
        )
    refused = tier.server.psql(
        "SELECT 1", user=READER, password=PASSWORDS[READER], database="sandbox_metastore", check=False
    )
    assert refused.returncode != 0 and "permission denied" in refused.stderr


def test_a_failed_seed_changes_nothing(tier: MetastoreTier) -> None:
    tier.load(production_catalog())
    tier.seed()
    before = tier.sandbox_psql(TABLE_LOCATIONS)

    # A wrong reader password: the dump fails before the sandbox database is touched.
    env = tier.seed_env(seed_id="seed-2")
    env["SOURCE_PASSWORD"] = "wrong"
    from tests.hive_catalog import SEED_SCRIPT

    result = tier.server.run(["sh", str(SEED_SCRIPT)], extra_env=env, check=False)

    assert result.returncode != 0
    assert "wrong" not in result.stdout + result.stderr
    assert tier.sandbox_psql(TABLE_LOCATIONS) == before


def test_the_seed_script_refuses_missing_settings(tier: MetastoreTier) -> None:
    from tests.hive_catalog import SEED_SCRIPT

    env = tier.seed_env()
    del env["SANDBOX_BRANCH"]
    result = subprocess.run(
        ["sh", str(SEED_SCRIPT)],
        check=False,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 2
    assert "SANDBOX_BRANCH is not set" in result.stderr
