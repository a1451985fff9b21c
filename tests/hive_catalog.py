"""A tier's Hive metastore database on a real PostgreSQL, with the real schema, for seed tests and benchmarks.

``MetastoreTier.create`` converges roles the way the tier does (the project's own bootstrap script,
which also creates the read-only role), loads the Hive metastore's Postgres schema for the pinned
version as the database's owner (as schematool would), and fills it with a catalog from
:class:`Catalog`: rows as the metastore writes them for databases, tables, partitions and views.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from components.tier.postgres_bootstrap import ensure_databases_script
from tests.conftest import PROJECT_ROOT
from tests.postgres_server import TempPostgres

SEED_SCRIPT = PROJECT_ROOT / "components" / "sandbox" / "catalog_seed" / "seed.sh"
OWNER = "metastore"
READER = "metastore_reader"
SANDBOX_OWNER = "sandbox_metastore"
PASSWORDS = {OWNER: "owner-pw", READER: "reader-pw", SANDBOX_OWNER: "sandbox-pw"}
TIER_DATABASE = "metastore"
SANDBOX_DATABASE = "sandbox_metastore"
_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


class HiveSchemaMissing(RuntimeError):
    """The Hive metastore schema has not been fetched."""


def pinned_hive_version() -> str:
    """``tier:versions.metastore`` of the prod stack: the Hive version production runs."""
    stack = yaml.safe_load((PROJECT_ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    return str(stack["config"]["tier:versions"]["metastore"])


def hive_schema(version: str | None = None) -> Path:
    """The metastore's Postgres schema script for ``version``, as ``.ci/fetch-hive-schema`` caches it.

    Raises:
        HiveSchemaMissing: not fetched yet.
    """
    version = version or pinned_hive_version()
    major_minor = ".".join(version.split(".")[:2])
    path = PROJECT_ROOT / ".cache" / "hive-metastore" / version / f"hive-schema-{major_minor}.0.postgres.sql"
    if not path.is_file():
        raise HiveSchemaMissing(
            f"{path} is missing; fetch it with `bash .ci/fetch-hive-schema` (needs Maven)"
        )
    return path


def _text(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


@dataclass
class Catalog:
    """Builds the SQL the metastore would have written for a catalog (ids allocated here)."""

    statements: list[str] = field(default_factory=list)
    _next_id: int = 1000
    _databases: dict[str, int] = field(default_factory=dict)

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def database(self, name: str, location: str, managed_location: str | None = None) -> Catalog:
        db_id = self._id()
        self._databases[name] = db_id
        self.statements.append(
            'INSERT INTO "DBS" ("DB_ID", "DESC", "DB_LOCATION_URI", "NAME", "OWNER_NAME", "OWNER_TYPE", '
            '"CTLG_NAME", "CREATE_TIME", "DB_MANAGED_LOCATION_URI", "TYPE") VALUES '
            f"({db_id}, NULL, {_text(location)}, {_text(name)}, 'hive', 'USER', 'hive', 1700000000, "
            f"{_text(managed_location)}, 'NATIVE');"
        )
        return self

    def _storage(self, location: str | None, cd_id: int) -> int:
        serde_id, sd_id = self._id(), self._id()
        self.statements += [
            f'INSERT INTO "SERDES" ("SERDE_ID", "NAME", "SLIB") VALUES ({serde_id}, NULL, {_text(_SERDE)});',
            f"INSERT INTO \"SERDE_PARAMS\" VALUES ({serde_id}, 'serialization.format', '1');",
            'INSERT INTO "SDS" ("SD_ID", "INPUT_FORMAT", "IS_COMPRESSED", "LOCATION", "NUM_BUCKETS", '
            '"OUTPUT_FORMAT", "SERDE_ID", "CD_ID", "IS_STOREDASSUBDIRECTORIES") VALUES '
            f"({sd_id}, {_text(_INPUT)}, false, {_text(location)}, -1, {_text(_OUTPUT)}, {serde_id}, "
            f"{cd_id}, false);",
            f"INSERT INTO \"SD_PARAMS\" VALUES ({sd_id}, 'pipeline', 'sandbox-test');",
        ]
        return sd_id

    def table(
        self,
        database: str,
        name: str,
        location: str | None,
        partitions: Sequence[tuple[str, str | None]] = (),
        table_type: str = "EXTERNAL_TABLE",
        skewed_location: str | None = None,
    ) -> Catalog:
        """A table with columns ``id``/``amount``, partitioned by ``day`` when ``partitions`` are given.

        Args:
            partitions: ``(day value, location)`` per partition.
            skewed_location: adds a skewed value stored at this location.
        """
        cd_id = self._id()
        self.statements += [
            f'INSERT INTO "CDS" VALUES ({cd_id});',
            f"INSERT INTO \"COLUMNS_V2\" VALUES ({cd_id}, NULL, 'id', 'bigint', 0);",
            f"INSERT INTO \"COLUMNS_V2\" VALUES ({cd_id}, NULL, 'amount', 'double', 1);",
        ]
        sd_id = self._storage(location, cd_id)
        tbl_id = self._id()
        self.statements += [
            'INSERT INTO "TBLS" ("TBL_ID", "CREATE_TIME", "DB_ID", "LAST_ACCESS_TIME", "OWNER", '
            '"OWNER_TYPE", "RETENTION", "SD_ID", "TBL_NAME", "TBL_TYPE", "VIEW_EXPANDED_TEXT", '
            '"VIEW_ORIGINAL_TEXT") VALUES '
            f"({tbl_id}, 1700000000, {self._databases[database]}, 0, 'hive', 'USER', 0, {sd_id}, "
            f"{_text(name)}, {_text(table_type)}, "
            + ("'SELECT 1', 'SELECT 1'" if table_type == "VIRTUAL_VIEW" else "NULL, NULL")
            + ");",
            f"INSERT INTO \"TABLE_PARAMS\" VALUES ({tbl_id}, 'EXTERNAL', 'TRUE');",
            f'INSERT INTO "TAB_COL_STATS" ("CS_ID", "CAT_NAME", "DB_NAME", "TABLE_NAME", '
            f'"COLUMN_NAME", "COLUMN_TYPE", "TBL_ID", "NUM_NULLS", "LAST_ANALYZED", "ENGINE") VALUES '
            f"({self._id()}, 'hive', {_text(database)}, {_text(name)}, 'id', 'bigint', {tbl_id}, 0, "
            "1700000000, 'hive');",
        ]
        if skewed_location is not None:
            list_id = self._id()
            self.statements += [
                f'INSERT INTO "SKEWED_STRING_LIST" VALUES ({list_id});',
                f"INSERT INTO \"SKEWED_STRING_LIST_VALUES\" VALUES ({list_id}, '42', 0);",
                f"INSERT INTO \"SKEWED_COL_NAMES\" VALUES ({sd_id}, 'id', 0);",
                f'INSERT INTO "SKEWED_COL_VALUE_LOC_MAP" VALUES ({sd_id}, {list_id}, '
                f"{_text(skewed_location)});",
            ]
        if partitions:
            self.statements.append(
                f"INSERT INTO \"PARTITION_KEYS\" VALUES ({tbl_id}, NULL, 'day', 'string', 0);"
            )
        for day, part_location in partitions:
            part_sd = self._storage(part_location, cd_id)
            part_id = self._id()
            self.statements += [
                'INSERT INTO "PARTITIONS" ("PART_ID", "CREATE_TIME", "LAST_ACCESS_TIME", "PART_NAME", '
                f'"SD_ID", "TBL_ID") VALUES ({part_id}, 1700000000, 0, {_text("day=" + day)}, {part_sd}, '
                f"{tbl_id});",
                f'INSERT INTO "PARTITION_KEY_VALS" VALUES ({part_id}, {_text(day)}, 0);',
                f"INSERT INTO \"PARTITION_PARAMS\" VALUES ({part_id}, 'numFiles', '1');",
            ]
        return self

    def sql(self) -> str:
        return "BEGIN;\n" + "\n".join(self.statements) + "\nCOMMIT;\n"


@dataclass
class MetastoreTier:
    """A PostgreSQL server holding a tier's metastore database and an empty sandbox database."""

    server: TempPostgres

    @classmethod
    def create(cls, server: TempPostgres, schema: Path) -> MetastoreTier:
        """Converges roles with the project's bootstrap script, then loads ``schema`` as the owner."""
        tier = cls(server)
        tier.bootstrap()
        tier.owner_psql(file=schema)
        return tier

    def bootstrap(self) -> None:
        """Runs the tier's database bootstrap script as the superuser, as the tier's Job does."""
        script = self.server.directory / "ensure-databases.sql"
        script.write_text(ensure_databases_script([OWNER, SANDBOX_OWNER], {READER: OWNER}))
        os.chmod(script, 0o644)
        env = {f"PASSWORD_{role.upper()}": password for role, password in PASSWORDS.items()}
        self.server.run(
            ["psql", "--no-psqlrc", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(script)], extra_env=env
        )

    def owner_psql(self, sql: str | None = None, *, file: Path | None = None) -> str:
        return self.server.psql(
            sql, file=file, user=OWNER, password=PASSWORDS[OWNER], database=TIER_DATABASE
        ).stdout

    def reader_psql(self, sql: str) -> str:
        return self.server.psql(sql, user=READER, password=PASSWORDS[READER], database=TIER_DATABASE).stdout

    def sandbox_psql(self, sql: str) -> str:
        return self.server.psql(
            sql, user=SANDBOX_OWNER, password=PASSWORDS[SANDBOX_OWNER], database=SANDBOX_DATABASE
        ).stdout

    def load(self, catalog: Catalog) -> None:
        path = self.server.directory / "catalog.sql"
        path.write_text(catalog.sql())
        os.chmod(path, 0o644)
        self.owner_psql(file=path)

    def seed_env(
        self,
        *,
        repository: str = "pipeline",
        source_ref: str = "main",
        source_commit: str = "c0ffee" + "0" * 58,
        branch: str = "sbx-feature-orders",
        seed_id: str = "seed-1",
        include_databases: Iterable[str] = (),
        work_dir: Path | None = None,
    ) -> dict[str, str]:
        """The environment the seed Job gives ``seed.sh``, pointed at this server."""
        server = self.server
        return {
            "SOURCE_HOST": server.host,
            "SOURCE_PORT": str(server.port),
            "SOURCE_DATABASE": TIER_DATABASE,
            "SOURCE_USER": READER,
            "SOURCE_PASSWORD": PASSWORDS[READER],
            "SOURCE_SSLMODE": "disable",
            "TARGET_HOST": server.host,
            "TARGET_PORT": str(server.port),
            "TARGET_DATABASE": SANDBOX_DATABASE,
            "TARGET_USER": SANDBOX_OWNER,
            "TARGET_PASSWORD": PASSWORDS[SANDBOX_OWNER],
            "TARGET_SSLMODE": "disable",
            "LAKEFS_REPOSITORY": repository,
            "SOURCE_REF": source_ref,
            "SOURCE_COMMIT": source_commit,
            "SANDBOX_BRANCH": branch,
            "SEED_ID": seed_id,
            "INCLUDE_DATABASES": ",".join(include_databases),
            "SEED_WORK_DIR": str(work_dir or server.directory),
        }

    def seed(self, check: bool = True, **options: object) -> tuple[int, str]:
        """Runs the exact script the seed Job runs; returns its exit code and combined output."""
        env = self.seed_env(**options)  # type: ignore[arg-type]
        result = self.server.run(["sh", str(SEED_SCRIPT)], extra_env=env, check=False)
        output = result.stdout + result.stderr
        if check and result.returncode != 0:
            raise AssertionError(f"seed failed ({result.returncode}):\n{output}")
        return result.returncode, output


TABLE_LOCATIONS = """
SELECT d."NAME" || '.' || t."TBL_NAME" || '|' || coalesce(s."LOCATION", '')
  FROM "TBLS" t JOIN "DBS" d ON d."DB_ID" = t."DB_ID" LEFT JOIN "SDS" s ON s."SD_ID" = t."SD_ID" ORDER BY 1
"""
PARTITION_LOCATIONS = """
SELECT d."NAME" || '.' || t."TBL_NAME" || '/' || p."PART_NAME" || '|' || coalesce(s."LOCATION", '')
  FROM "PARTITIONS" p JOIN "TBLS" t ON t."TBL_ID" = p."TBL_ID" JOIN "DBS" d ON d."DB_ID" = t."DB_ID"
  JOIN "SDS" s ON s."SD_ID" = p."SD_ID" ORDER BY 1
"""
DATABASE_LOCATIONS = """SELECT "NAME" || '|' || "DB_LOCATION_URI" FROM "DBS" ORDER BY 1"""


def as_map(output: str) -> dict[str, str]:
    """``key|value`` lines (what the queries above print) as a dict."""
    return dict(line.split("|", 1) for line in output.splitlines() if line)
