"""A throwaway PostgreSQL server on 127.0.0.1 from the distribution's packages, for tests and benchmarks.

``initdb`` refuses to run as root, so as root the data directory belongs to the ``postgres`` user the
Debian packages create and every server binary runs through ``runuser``. The server listens on TCP
only (no Unix socket), on a free port, with password authentication, and is removed on ``stop``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "throwaway-superuser"
_RUN_AS = "postgres"


class PostgresMissing(RuntimeError):
    """PostgreSQL's server binaries are not installed."""


def postgres_bindir() -> Path:
    """Directory holding ``initdb``, ``pg_ctl``, ``pg_dump`` and ``psql`` of one PostgreSQL version.

    Raises:
        PostgresMissing: no server installation found.
    """
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.insert(0, str(Path(on_path).resolve()))
    for initdb in candidates:
        bindir = Path(initdb).parent
        if all((bindir / tool).exists() for tool in ("pg_ctl", "pg_dump", "psql")):
            return bindir
    raise PostgresMissing(
        "PostgreSQL server binaries (initdb, pg_ctl, pg_dump, psql) not found; install them with "
        "`apt-get install postgresql` (.ci/run does this in CI)"
    )


def _major(initdb: str) -> int:
    version = Path(initdb).parent.parent.name
    return int(version) if version.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class TempPostgres:
    """One PostgreSQL server in a temporary directory; ``start()`` it, ``stop()`` removes it."""

    bindir: Path = field(default_factory=postgres_bindir)
    port: int = field(default_factory=_free_port)
    host: str = "127.0.0.1"
    directory: Path = field(init=False)

    def start(self) -> TempPostgres:
        self.directory = Path(tempfile.mkdtemp(prefix="pipeline-sandbox-pg-"))
        password_file = self.directory / "superuser-password"
        password_file.write_text(SUPERUSER_PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.directory, _RUN_AS, _RUN_AS)
            shutil.chown(password_file, _RUN_AS, _RUN_AS)
        data = self.directory / "data"
        self._server(
            "initdb", "--auth=scram-sha-256", f"--username={SUPERUSER}", f"--pwfile={password_file}",
            "--encoding=UTF8", "--no-sync", "-D", str(data),
        )  # fmt: skip
        options = (
            f"-c listen_addresses={self.host} -c port={self.port} -c unix_socket_directories='' -c fsync=off"
        )
        self._server(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(self.directory / "log"), "-w", "start"
        )
        return self

    def stop(self) -> None:
        try:
            self._server("pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> TempPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _server(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", _RUN_AS, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.directory)

    def env(
        self, user: str = SUPERUSER, password: str = SUPERUSER_PASSWORD, database: str = "postgres"
    ) -> dict[str, str]:
        """libpq environment for a client of this server."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": user,
            "PGPASSWORD": password,
            "PGDATABASE": database,
            "PGSSLMODE": "disable",
        }

    def psql(
        self,
        sql: str | None = None,
        *,
        file: Path | None = None,
        variables: Mapping[str, str] | None = None,
        user: str = SUPERUSER,
        password: str = SUPERUSER_PASSWORD,
        database: str = "postgres",
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Runs ``sql`` (or ``file``) through psql with ON_ERROR_STOP, unaligned tuples only."""
        args: list[str] = [
            str(self.bindir / "psql"),
            "--no-psqlrc",
            "-X",
            "-q",
            "-tA",
            "-v",
            "ON_ERROR_STOP=1",
        ]
        for name, value in (variables or {}).items():
            args += ["-v", f"{name}={value}"]
        args += ["-f", str(file)] if file is not None else ["-c", sql or ""]
        return self.run(args, user=user, password=password, database=database, check=check)

    def run(
        self,
        args: Sequence[str],
        *,
        user: str = SUPERUSER,
        password: str = SUPERUSER_PASSWORD,
        database: str = "postgres",
        extra_env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Runs a client program with this server's libpq environment."""
        env = {**os.environ, **self.env(user, password, database), **(extra_env or {})}
        env["PATH"] = f"{self.bindir}:{env.get('PATH', '')}"
        result = subprocess.run(list(args), check=False, capture_output=True, text=True, env=env)
        if check and result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, args, result.stdout, result.stderr)
        return result

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.psql("SELECT 1", check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"PostgreSQL on {self.host}:{self.port} did not accept connections")
            time.sleep(0.1)
