"""Per-consumer databases and login roles on a Postgres server, converged by a one-shot Job.

Declares, in the given namespace and under the caller's parent:
- per database: a generated password and a Secret for consumers (``username``, ``password``, ``host``,
  ``port``, ``database``, ``connection-string``, and ``postgresql-password`` for the Dagster chart);
- per read-only role (e.g. ``metastore_reader``, with which sandboxes copy the tier's catalog): a
  generated password and a Secret of the same shape; the role may read its database and nothing else;
- a ConfigMap with an idempotent psql script and a Job that runs it as the server's admin.

Why a Job and not ``/docker-entrypoint-initdb.d`` or a Pulumi provider: init scripts run only when a
data directory is first created, and Pulumi has no route into a private VPC (RDS). The Job runs
whenever the database list, the server, the image or a password changes (its name carries a checksum
of them), and converges instead of creating: roles and databases are created only if missing,
passwords and ownership are always set. The same script serves a superuser (in-cluster Postgres) and
the RDS master user, which is not a superuser (see :func:`ensure_databases_script`).

A function, not a component: LocalPostgres declared these children itself before, and a new parent
would change their URNs, so Pulumi would regenerate every password and replace every Secret.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.config.tier import postgres_version
from components.k8s import (
    ContainerResources,
    check_object_name,
    config_checksum,
    config_map_volume,
    container_security_context,
    one_shot_job,
    one_shot_pod_spec,
    opaque_secret,
    secret_env,
)

SslMode = Literal["disable", "require"]
# Needs no quoting in SQL, and leaves room in the object names derived from it.
_DATABASE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
# `<name>-db-init-<10 hex>` must stay a 63-character label (Job names become pod label values).
NAME_ROOM = len("-db-init-") + 10
_SCRIPT = "ensure-databases.sql"
# The uid of the `postgres` user in the official image, which also runs the client.
_POSTGRES_UID = 999


@dataclass(frozen=True)
class PostgresDatabase:
    """One database a consumer owns, and where its credentials are."""

    name: str
    user: str
    password: pulumi.Output[str]
    """Secret."""
    secret_name: str
    """Kubernetes Secret with keys ``username``, ``password``, ``host``, ``port``, ``database``,
    ``connection-string`` (``postgres://…?sslmode=<sslmode>``) and ``postgresql-password``."""


@dataclass(frozen=True)
class DatabaseBootstrapArgs:
    """Inputs of :func:`bootstrap_databases`."""

    namespace: pulumi.Input[str]
    host: pulumi.Input[str]
    """DNS name consumers and the Job connect to."""
    admin_username: pulumi.Input[str]
    """A superuser, or a role with CREATEROLE and CREATEDB such as the RDS master user."""
    admin_password_secret_name: pulumi.Input[str]
    """Kubernetes Secret (in ``namespace``) holding the admin's password."""
    image: pulumi.Input[str]
    """Official ``postgres`` image, 15 or newer (psql's ``\\getenv``); see :func:`postgres_image`."""
    databases: Sequence[str]
    """One database per name, owned by a login role of that name."""
    labels: Mapping[str, str]
    """Standard labels of every object; the Job's component label becomes ``database-init``."""
    port: int = 5432
    admin_password_key: str = "password"  # noqa: S105 - a key name
    sslmode: SslMode = "disable"
    """libpq ``sslmode`` of the Job (``PGSSLMODE``) and of the consumers' connection strings."""
    job_ttl_seconds: int | None = None
    """Let Kubernetes delete the finished Job after this long; None keeps it and its logs."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the Job waits for, e.g. the server's StatefulSet or RDS instance."""
    readers: Mapping[str, str] = field(default_factory=dict)
    """Read-only login roles: role name -> the database (one of ``databases``) it may read."""

    def __post_init__(self) -> None:
        reserved = {"postgres"}
        if isinstance(self.admin_username, str):
            reserved.add(self.admin_username)
        check_database_names([*self.databases, *self.readers], reserved=reserved)
        check_readers(self.readers, self.databases)


@dataclass(frozen=True)
class DatabaseBootstrap:
    """What :func:`bootstrap_databases` declared."""

    databases: dict[str, PostgresDatabase]
    """Per database name: its user, password and credentials Secret."""
    job: k8s.batch.v1.Job | None
    """The Job that converges them; None when there are no databases."""
    readers: dict[str, PostgresDatabase] = field(default_factory=dict)
    """Per read-only role name: the database it reads, its password and credentials Secret."""


def check_database_names(databases: Sequence[str], *, reserved: Collection[str]) -> None:
    """Raises ValueError unless every name is a plain, unique, non-reserved SQL identifier."""
    bad = [d for d in databases if not _DATABASE_NAME.match(d) or d in reserved]
    if bad:
        raise ValueError(
            f"database names {bad} are invalid: use lower-case letters, digits and '_', start with a "
            f"letter, at most 48 characters, and none of {sorted(reserved)}"
        )
    if len(set(databases)) != len(databases):
        raise ValueError(f"database names must be unique, got {list(databases)}")


def check_readers(readers: Mapping[str, str], databases: Sequence[str]) -> None:
    """Raises ValueError unless every read-only role reads one of ``databases``."""
    unknown = {role: db for role, db in readers.items() if db not in databases}
    if unknown:
        raise ValueError(f"read-only roles {unknown} name databases not in {list(databases)}")


def postgres_image(version: str) -> str:
    """The official image for ``version``; refuses versions older than 15 (the Job uses ``\\getenv``)."""
    return f"postgres:{postgres_version(version)}"


def bootstrap_databases(
    name: str, args: DatabaseBootstrapArgs, opts: pulumi.ResourceOptions
) -> DatabaseBootstrap:
    """Declares passwords, consumer Secrets, the script ConfigMap and the Job for ``args.databases``.

    Args:
        name: prefix of every resource and object name, e.g. ``tier-postgres``.
        opts: the parent (and, where it has none, the Kubernetes provider) of every child.
    """
    check_object_name(name, room=NAME_ROOM)
    databases = {db: _create_database(name, args, db, opts) for db in args.databases}
    readers = {role: _create_database(name, args, db, opts, user=role) for role, db in args.readers.items()}
    job = _create_job(name, args, databases, readers, opts) if databases else None
    return DatabaseBootstrap(databases=databases, job=job, readers=readers)


def _create_database(
    name: str, args: DatabaseBootstrapArgs, db: str, opts: pulumi.ResourceOptions, user: str | None = None
) -> PostgresDatabase:
    """The password and Secret of ``user`` (default: the owner role, named like ``db``) on ``db``."""
    user = user or db
    object_name = f"{name}-db-{user.replace('_', '-')}"
    # Letters and digits only: the password goes into URLs and JDBC options unescaped.
    generated = random.RandomPassword(f"{object_name}-password", length=32, special=False, opts=opts)
    # Secret by construction, not only by the engine's additionalSecretOutputs for `result`.
    password: pulumi.Output[str] = pulumi.Output.secret(generated.result)
    port = str(args.port)
    connection_string = pulumi.Output.concat(
        "postgres://", user, ":", password, "@", args.host, ":", port, "/", db, "?sslmode=", args.sslmode
    )
    opaque_secret(
        object_name,
        name=object_name,
        namespace=args.namespace,
        labels=args.labels,
        string_data={
            "username": user,
            "password": password,
            "host": args.host,
            "port": port,
            "database": db,
            "connection-string": connection_string,
            # The key the Dagster chart reads from `global.postgresqlSecretName`.
            "postgresql-password": password,
        },
        opts=opts,
    )
    return PostgresDatabase(name=db, user=user, password=password, secret_name=object_name)


def _create_job(
    name: str,
    args: DatabaseBootstrapArgs,
    databases: dict[str, PostgresDatabase],
    readers: dict[str, PostgresDatabase],
    opts: pulumi.ResourceOptions,
) -> k8s.batch.v1.Job:
    script = ensure_databases_script(list(databases), {role: r.name for role, r in readers.items()})
    config_map = k8s.core.v1.ConfigMap(
        f"{name}-db-init",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=f"{name}-db-init", namespace=args.namespace, labels=dict(args.labels)
        ),
        data={_SCRIPT: script},
        opts=opts,
    )
    passwords = [db.password for db in [*databases.values(), *readers.values()]]
    # A new server (e.g. a replaced RDS instance) has none of the roles: rerun for it too.
    target = pulumi.Output.all(args.image, args.host, args.admin_username, str(args.port), args.sslmode)
    # The checksum of random 190-bit passwords reveals nothing; unsecret it so the Job name is readable.
    checksum = pulumi.Output.unsecret(
        pulumi.Output.all(target, *passwords).apply(
            lambda parts: config_checksum(script, *parts[0], *parts[1:])
        )
    )
    env = [
        k8s.core.v1.EnvVarArgs(name="PGHOST", value=args.host),
        k8s.core.v1.EnvVarArgs(name="PGPORT", value=str(args.port)),
        k8s.core.v1.EnvVarArgs(name="PGUSER", value=args.admin_username),
        k8s.core.v1.EnvVarArgs(name="PGDATABASE", value="postgres"),
        k8s.core.v1.EnvVarArgs(name="PGCONNECT_TIMEOUT", value="10"),
        *(
            [k8s.core.v1.EnvVarArgs(name="PGSSLMODE", value=args.sslmode)]
            if args.sslmode != "disable"
            else []
        ),
        secret_env("PGPASSWORD", args.admin_password_secret_name, args.admin_password_key),
        *[secret_env(_password_env(db.name), db.secret_name, "password") for db in databases.values()],
        *[secret_env(_password_env(role), r.secret_name, "password") for role, r in readers.items()],
    ]
    container = k8s.core.v1.ContainerArgs(
        name="ensure-databases",
        image=args.image,
        command=["psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-f", f"/scripts/{_SCRIPT}"],
        env=env,
        resources=ContainerResources(memory_limit="128Mi", cpu_limit="500m").to_args(),
        security_context=container_security_context(),
        volume_mounts=[k8s.core.v1.VolumeMountArgs(name="scripts", mount_path="/scripts", read_only=True)],
    )
    pod_spec = one_shot_pod_spec(
        user=_POSTGRES_UID,
        containers=[container],
        volumes=[config_map_volume("scripts", config_map.metadata.name)],
    )
    return one_shot_job(
        f"{name}-db-init-job",
        object_name=pulumi.Output.concat(name, "-db-init-", checksum),
        namespace=args.namespace,
        labels={**args.labels, "app.kubernetes.io/component": "database-init"},
        pod_spec=pod_spec,
        ttl_seconds_after_finished=args.job_ttl_seconds,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(args.depends_on))),
    )


def ensure_databases_script(databases: Sequence[str], readers: Mapping[str, str] | None = None) -> str:
    """An idempotent psql script: per database, a login role and a database it owns; per reader, a
    read-only login role on one database (see :func:`_reader_lines`).

    ``CREATE DATABASE`` cannot run inside a ``DO`` block, and psql variables are not substituted inside
    one, so each statement is built by a guarded ``SELECT format(...)`` and run with ``\\gexec``;
    ``%I``/``%L`` quote names and passwords. Passwords come from the environment (``\\getenv``), never
    from the script, so the ConfigMap holds no secret.

    The admin need not be a superuser. The RDS master user is not one (it has ``rds_superuser``,
    CREATEROLE and CREATEDB), and giving a database to another role requires being able to
    ``SET ROLE`` to it (PostgreSQL 16+, "GRANT": "To create an object owned by another role or give
    ownership of an existing object to another role, you must have the ability to SET ROLE to that
    role"; 15 and older: membership in it). Creating a role grants its creator only ADMIN OPTION, as
    ``createrole_self_grant`` is empty by default, so the admin first grants each role to itself.
    Plain ``GRANT role TO CURRENT_USER`` works on 15 and 16+ alike (``WITH SET`` does not parse on 15,
    and SET defaults to TRUE on 16+); repeating it is only a NOTICE. A superuser needs no grant and
    gets none, so the in-cluster server ends up exactly as before.
    """
    lines = ["-- Generated by pipeline-sandbox (database bootstrap). Safe to run any number of times.", ""]
    for db in databases:
        lines += [
            f"\\set name {db}",
            f"\\getenv password {_password_env(db)}",
            "SELECT format('CREATE ROLE %I LOGIN', :'name')",
            "  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \\gexec",
            "SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'name', :'password') \\gexec",
            "SELECT format('GRANT %I TO CURRENT_USER', :'name')",
            "  WHERE NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) \\gexec",
            "SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')",
            "  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \\gexec",
            "SELECT format('ALTER DATABASE %I OWNER TO %I', :'name', :'name') \\gexec",
            # Consumers share one server; none may even connect to another's database.
            "SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'name') \\gexec",
            "",
        ]
    for role, db in (readers or {}).items():
        lines += _reader_lines(role, db)
    return "\n".join(lines)


def _reader_lines(role: str, db: str) -> list[str]:
    """A login role that can read every table and sequence of ``db``'s ``public`` schema, now and later.

    It owns nothing, cannot create anything, inherits nothing and defaults to read-only transactions.
    ``ALTER DEFAULT PRIVILEGES FOR ROLE <owner>`` covers tables the owner creates after this runs (the
    metastore's schema Job runs after this Job on a new tier); ``GRANT ... ON ALL`` covers existing
    ones. The admin may do both as a superuser, or as a member of the owner role (see above).
    ``REVOKE CREATE ON SCHEMA public FROM PUBLIC`` is PostgreSQL 15's default, repeated for databases
    that came from older versions. Hive's own schema script ends with ``GRANT ALL ON SCHEMA public TO
    PUBLIC``, and on a new tier it runs after this Job: so the admin takes over the ``public`` schema
    and grants the owner role only ``USAGE`` and ``CREATE`` on it. Run by a role that holds no grant
    option, that GRANT grants nothing (PostgreSQL warns), and PUBLIC, the reader included, never gets
    ``CREATE`` there. The owner still creates and upgrades its tables as before.
    """
    return [
        f"\\set name {role}",
        f"\\set database {db}",
        f"\\getenv password {_password_env(role)}",
        "SELECT format('CREATE ROLE %I LOGIN', :'name')",
        "  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \\gexec",
        "SELECT format('ALTER ROLE %I WITH LOGIN NOINHERIT PASSWORD %L', :'name', :'password') \\gexec",
        # Only when someone widened the role: PostgreSQL 15 lets no non-superuser admin (RDS's) even
        # restate NOSUPERUSER, so saying it unconditionally would fail there.
        "SELECT format('ALTER ROLE %I NOSUPERUSER NOCREATEDB NOCREATEROLE', :'name')",
        "  WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = :'name'",
        "    AND (rolsuper OR rolcreatedb OR rolcreaterole)) \\gexec",
        "SELECT format('ALTER ROLE %I SET default_transaction_read_only = on', :'name') \\gexec",
        "SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'database', :'name') \\gexec",
        "\\connect :database",
        "ALTER SCHEMA public OWNER TO CURRENT_USER;",
        "SELECT format('GRANT USAGE, CREATE ON SCHEMA public TO %I', :'database') \\gexec",
        "SELECT format('GRANT USAGE ON SCHEMA public TO %I', :'name') \\gexec",
        "SELECT format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', :'name') \\gexec",
        "SELECT format('GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', :'name') \\gexec",
        "SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT SELECT ON TABLES TO %I',",
        "  :'database', :'name') \\gexec",
        "SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '",
        "  'GRANT SELECT ON SEQUENCES TO %I', :'database', :'name') \\gexec",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
        "\\connect postgres",
        "",
    ]


def _password_env(db: str) -> str:
    return f"PASSWORD_{db.upper()}"
