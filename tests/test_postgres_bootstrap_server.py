"""The database bootstrap script against a real PostgreSQL server (the distribution's packages).

Runs exactly the script the bootstrap Job mounts, with the Job's psql invocation and environment,
twice as a superuser (the in-cluster Postgres) and twice as a non-superuser with CREATEROLE and
CREATEDB (the RDS master user), each on a throwaway cluster on 127.0.0.1. Then every consumer must log
in to its own database with its password, own it, and be refused CONNECT on every other one.

Needs the PostgreSQL server binaries (``initdb``, ``pg_ctl``; Debian: ``apt-get install postgresql``,
which ``.ci/run`` does). Without them the test fails in CI (``CI=true``) and is skipped elsewhere.
``initdb`` refuses to run as root, so as root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.tier.data_plane import METASTORE_READER, READERS
from components.tier.postgres_bootstrap import _SCRIPT, ensure_databases_script

pytestmark = pytest.mark.postgres

CONSUMERS = ["lakefs", "metastore", "dagster"]
ADMIN_PASSWORD = "admin-password-for-a-throwaway-server"
RDS_LIKE_ADMIN = "tier_admin"


def server_bin_dir() -> Path:
    """The newest installed PostgreSQL server's bin directory; fails in CI, skips elsewhere, if none."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name),
        reverse=True,
    )
    on_path = shutil.which("initdb")
    found = candidates[0].parent if candidates else (Path(on_path).parent if on_path else None)
    if found is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) not found; install the postgresql package"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}: .ci/run installs it, so CI must have it")
        pytest.skip(reason)
    return found


@dataclass(frozen=True)
class Server:
    bin_dir: Path
    port: int

    def psql(
        self,
        *args: str,
        user: str,
        password: str,
        database: str = "postgres",
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """psql over TCP as ``user``, with the environment the Job sets (``PG*`` variables)."""
        job_env = {
            "PATH": os.environ.get("PATH", ""),
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": user,
            "PGDATABASE": database,
            "PGCONNECT_TIMEOUT": "10",
            "PGPASSWORD": password,
            **(env or {}),
        }
        return subprocess.run(
            [str(self.bin_dir / "psql"), "--no-psqlrc", *args],
            env=job_env,
            capture_output=True,
            text=True,
            check=False,  # callers assert on the outcome, refusals included
        )

    def query(self, sql: str, *, user: str, password: str, database: str = "postgres") -> str:
        done = self.psql("-At", "-c", sql, user=user, password=password, database=database)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server() -> Iterator[Server]:
    """A fresh cluster with password (scram) logins over TCP only, superuser ``postgres``."""
    bin_dir = server_bin_dir()
    # Not pytest's tmp_path: its parents are private to root, and the server runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="bootstrap-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    password_file = root / "password"
    password_file.write_text(ADMIN_PASSWORD)
    data = root / "data"
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                f"--pwfile={password_file}",
                "--auth-host=scram-sha-256",
                "--auth-local=reject",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    subprocess.run(
        _as_server_user(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield Server(bin_dir, port)
    finally:
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            check=False,  # best effort: the directory goes anyway
        )
        shutil.rmtree(root, ignore_errors=True)


def passwords(suffix: str = "") -> dict[str, str]:
    """Every role's password, as the Job's environment carries them: consumers and the tier's readers."""
    return {role: f"{role}-password-{suffix or 'first'}" for role in [*CONSUMERS, *READERS]}


def run_job_script(
    server: Server, admin: str, admin_password: str, consumer_passwords: dict[str, str]
) -> None:
    """What the Job's container runs: psql -v ON_ERROR_STOP=1 -f /scripts/ensure-databases.sql."""
    with tempfile.TemporaryDirectory() as scripts:
        script = Path(scripts) / _SCRIPT
        script.write_text(ensure_databases_script(CONSUMERS, READERS))
        done = server.psql(
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            str(script),
            user=admin,
            password=admin_password,
            env={f"PASSWORD_{db.upper()}": pw for db, pw in consumer_passwords.items()},
        )
    assert done.returncode == 0, f"the bootstrap script failed as {admin}:\n{done.stderr}"
    assert "ERROR" not in done.stderr


def assert_each_consumer_owns_and_reaches_only_its_database(
    server: Server, consumer_passwords: dict[str, str]
) -> None:
    for db, password in consumer_passwords.items():
        if db not in CONSUMERS:
            continue
        assert (
            server.query(
                "SELECT current_user || '@' || current_database()", user=db, password=password, database=db
            )
            == f"{db}@{db}"
        )
        owner = server.query(
            f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{db}'",
            user=db,
            password=password,
            database=db,
        )
        assert owner == db
        for other in CONSUMERS:
            if other == db:
                continue
            refused = server.psql("-c", "SELECT 1", user=db, password=password, database=other)
            assert refused.returncode != 0
            assert f'permission denied for database "{other}"' in refused.stderr


def test_as_a_superuser_twice_every_consumer_gets_its_own_database(server: Server) -> None:
    for _ in range(2):
        run_job_script(server, "postgres", ADMIN_PASSWORD, passwords())
    assert_each_consumer_owns_and_reaches_only_its_database(server, passwords())


def test_as_a_non_superuser_with_createrole_and_createdb_twice_as_on_rds(server: Server) -> None:
    _, admin_password = _rds_like_admin(server)
    assert (
        server.query(
            f"SELECT rolsuper FROM pg_roles WHERE rolname = '{RDS_LIKE_ADMIN}'",
            user="postgres",
            password=ADMIN_PASSWORD,
        )
        == "f"
    )
    for _ in range(2):
        run_job_script(server, RDS_LIKE_ADMIN, admin_password, passwords())
    assert_each_consumer_owns_and_reaches_only_its_database(server, passwords())


def _rds_like_admin(server: Server) -> tuple[str, str]:
    admin_password = "rds-like-master-password"
    server.query(
        f"CREATE ROLE {RDS_LIKE_ADMIN} LOGIN CREATEROLE CREATEDB PASSWORD '{admin_password}'",
        user="postgres",
        password=ADMIN_PASSWORD,
    )
    return RDS_LIKE_ADMIN, admin_password


@pytest.mark.parametrize("admin", ["superuser", "rds-like"])
def test_the_metastore_reader_never_gets_create_even_after_hives_own_grant(
    server: Server, admin: str
) -> None:
    # A brand-new tier: the bootstrap runs first, then Hive's schema script as the metastore role,
    # which ends with GRANT ALL ON SCHEMA public TO PUBLIC.
    user, password = ("postgres", ADMIN_PASSWORD) if admin == "superuser" else _rds_like_admin(server)
    run_job_script(server, user, password, passwords())
    owner_password, reader_password = passwords()["metastore"], passwords()[METASTORE_READER]
    hive = server.psql(
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        'CREATE TABLE "TBLS" (id int); REVOKE ALL ON SCHEMA public FROM PUBLIC; '
        "GRANT ALL ON SCHEMA public TO PUBLIC;",
        user="metastore",
        password=owner_password,
        database="metastore",
    )
    assert hive.returncode == 0, hive.stderr  # Hive's script still runs through (warnings only)

    assert (
        server.query(
            'SELECT count(*) FROM "TBLS"',
            user=METASTORE_READER,
            password=reader_password,
            database="metastore",
        )
        == "0"
    )
    sneaky = server.psql(
        "-c",
        'BEGIN READ WRITE; CREATE TABLE "SNEAKY" (id int); COMMIT;',
        user=METASTORE_READER,
        password=reader_password,
        database="metastore",
    )
    assert sneaky.returncode != 0
    assert "permission denied for schema public" in sneaky.stderr


def test_a_rerun_narrows_a_reader_someone_widened(server: Server) -> None:
    run_job_script(server, "postgres", ADMIN_PASSWORD, passwords())
    server.query(
        f"ALTER ROLE {METASTORE_READER} CREATEDB CREATEROLE", user="postgres", password=ADMIN_PASSWORD
    )

    run_job_script(server, "postgres", ADMIN_PASSWORD, passwords())

    attributes = server.query(
        f"SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = '{METASTORE_READER}'",
        user="postgres",
        password=ADMIN_PASSWORD,
    )
    assert attributes == "f"


def test_a_rerun_with_new_passwords_rotates_them(server: Server) -> None:
    run_job_script(server, "postgres", ADMIN_PASSWORD, passwords())
    run_job_script(server, "postgres", ADMIN_PASSWORD, passwords("rotated"))
    assert_each_consumer_owns_and_reaches_only_its_database(server, passwords("rotated"))
    stale = server.psql("-c", "SELECT 1", user="lakefs", password=passwords()["lakefs"], database="lakefs")
    assert stale.returncode != 0
    assert "password authentication failed" in stale.stderr
