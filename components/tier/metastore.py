"""HiveMetastore: the standalone Hive metastore (``apache/hive`` image) on Postgres.

Creates, in the given namespace:
- a ConfigMap with ``metastore-site.xml`` (warehouse location, optional S3A wiring to lakeFS's S3
  gateway), mounted next to the image's own ``hive-site.xml``, which it overrides;
- a Job that runs ``schematool -initOrUpgradeSchema`` once per metastore version and database, unless
  someone else writes the schema (a sandbox's seed copies its tier's, see ``external_schema``);
- a Deployment running the metastore with ``IS_RESUME=true`` (its entrypoint never touches the schema,
  so restarts and extra replicas cannot race on it), and a Service on 9083.

The Postgres JDBC driver is not in the image (its README mounts the jar), and this project has no image
build, so an init container downloads a pinned version from Maven Central and refuses it unless its
SHA-256 matches. Credentials reach ``SERVICE_OPTS`` only as ``$(VAR)`` references that Kubernetes
expands from Secret-backed env vars; the spec never contains them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import pulumi
import pulumi_kubernetes as k8s

from components.config.mirror import MAVEN_CENTRAL
from components.config.tier import hive_version
from components.images import pull_reference
from components.k8s import (
    ContainerResources,
    check_object_name,
    config_checksum,
    container_security_context,
    empty_dir,
    one_shot_job,
    pod_security_context,
    secret_env,
    selector_labels,
    service_host,
    standard_labels,
)
from components.k8s.workloads import cluster_ip_service

PORT = 9083
_APP = "hive-metastore"
_COMPONENT = "metastore"
# The `hive` user of the apache/hive image.
_HIVE_UID = 1000
_CONF_FILE = "metastore-site.xml"
_DRIVER_JAR = "postgresql.jar"
_NAME_ROOM = len("-schema-") + 10
FETCH_CONTAINER = "fetch-jdbc-driver"
FETCH_URL_ENV = "URL"
"""The init container that downloads the JDBC driver, and the env var holding the URL it downloads."""


@dataclass(frozen=True)
class JdbcDriver:
    """The Postgres JDBC driver jar, fetched at pod start and checked against its SHA-256."""

    version: str = "42.7.7"
    sha256: str = "157963d60ae66d607e09466e8c0cdf8087e9cb20d0159899ffca96bca2528460"
    """Of ``postgresql-<version>.jar`` on Maven Central (42.7.7: as pinned by nixpkgs' postgresql-jdbc)."""
    repository: pulumi.Input[str] = MAVEN_CENTRAL
    """Maven repository it is downloaded from (``tier:images.mavenRepository``; a sandbox passes its
    tier's ``mavenRepository``)."""
    fetch_image: str = "curlimages/curl:8.11.1"
    """Image with ``curl`` and ``sha256sum`` that runs the download."""

    @property
    def url(self) -> pulumi.Output[str]:
        return pulumi.Output.concat(
            self.repository, f"/org/postgresql/postgresql/{self.version}/postgresql-{self.version}.jar"
        )

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-f]{64}", self.sha256):
            raise ValueError(f"JDBC driver sha256 must be 64 lower-case hex digits, got {self.sha256!r}")


@dataclass(frozen=True)
class MetastoreDatabase:
    """Where the metastore keeps its schema: a Postgres database and a Secret with its credentials."""

    host: pulumi.Input[str]
    database: str
    credentials_secret_name: pulumi.Input[str]
    port: int = 5432
    username_key: str = "username"
    password_key: str = "password"  # noqa: S105 - a key name
    params: Mapping[str, str] = field(default_factory=dict)
    """JDBC URL parameters, e.g. ``{"sslmode": "require"}`` for RDS (pgjdbc reads libpq's sslmode)."""

    @property
    def jdbc_url(self) -> pulumi.Output[str]:
        """``jdbc:postgresql://host:port/database[?params]``."""
        query = f"?{urlencode(dict(self.params))}" if self.params else ""
        return pulumi.Output.concat("jdbc:postgresql://", self.host, f":{self.port}/{self.database}{query}")


@dataclass(frozen=True)
class MetastoreS3:
    """S3A access for table locations, e.g. lakeFS's S3 gateway (``s3a://<repo>/<branch>/...``)."""

    endpoint: pulumi.Input[str]
    """e.g. ``http://lakefs.tier.svc.cluster.local``; ``https://`` turns on TLS."""
    credentials_secret_name: pulumi.Input[str]
    access_key_id_key: str = "access-key-id"
    secret_access_key_key: str = "secret-access-key"  # noqa: S105 - a key name
    warehouse_dir: str | None = None
    """Default location of managed tables, e.g. ``s3a://lake/main/warehouse``; None keeps the image's."""
    path_style_access: bool = True
    """lakeFS and MinIO serve buckets as paths, not virtual hosts."""


@dataclass(frozen=True)
class HiveMetastoreArgs:
    """Inputs of :class:`HiveMetastore`."""

    namespace: pulumi.Input[str]
    version: pulumi.Input[str]
    """``apache/hive`` image tag, 4.x (e.g. ``4.0.1``): the schema Job relies on ``-initOrUpgradeSchema``.
    A sandbox passes its tier's version as an Output, which is checked once it resolves."""
    database: MetastoreDatabase
    s3: MetastoreS3 | None = None
    jdbc_driver: JdbcDriver = field(default_factory=JdbcDriver)
    image_registry: pulumi.Input[str] | None = None
    """Mirror registry the hive and curl images are pulled from (``tier:images.registry``; a sandbox
    passes its tier's ``imageRegistry``)."""
    replicas: int = 1
    # The image's entrypoint hard-codes -Xmx1G, so the limit leaves room above 1 GiB of heap.
    resources: ContainerResources = field(
        default_factory=lambda: ContainerResources(
            cpu_request="250m", memory_request="1280Mi", cpu_limit="2", memory_limit="2Gi"
        )
    )
    job_ttl_seconds: int | None = None
    """Let Kubernetes delete the finished schema Job after this long; None keeps it and its logs."""
    external_schema: pulumi.Input[str] | None = None
    """Set when someone else writes the schema, e.g. a sandbox's seed Job (its name): then no schema
    Job runs, and the value goes into the pod template, so the server starts only once it resolves
    and restarts when it changes (a re-seed)."""

    def __post_init__(self) -> None:
        if isinstance(self.version, str):
            hive_version(self.version)
        if self.replicas < 0:
            raise ValueError(f"replicas must be 0 (paused) or more, got {self.replicas}")


class HiveMetastore(pulumi.ComponentResource):
    """A standalone Hive metastore (Thrift on 9083) backed by Postgres."""

    uri: pulumi.Output[str]
    """Thrift URI for clients, e.g. ``thrift://tier-metastore.tier.svc.cluster.local:9083``."""

    def __init__(
        self, name: str, args: HiveMetastoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pipeline-sandbox:tier:HiveMetastore", name, None, opts)
        check_object_name(name, room=_NAME_ROOM)
        self._name = name
        self._args = args
        self._labels = standard_labels(_APP, _COMPONENT, name)
        self._image = pulumi.Output.all(args.version, args.image_registry).apply(
            lambda parts: pull_reference(f"apache/hive:{hive_version(parts[0])}", parts[1])
        )
        self._site_xml = _site_xml_output(args.s3)
        self.uri = pulumi.Output.concat("thrift://", service_host(name, args.namespace), f":{PORT}")

        config_map = self._create_config_map()
        schema_job = self._create_schema_job(config_map) if args.external_schema is None else None
        self.deployment = self._create_deployment(config_map, schema_job)
        self._create_service()
        self.register_outputs({"uri": self.uri})

    def _metadata(self, name: pulumi.Input[str]) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=self._args.namespace, labels=self._labels)

    def _create_config_map(self) -> k8s.core.v1.ConfigMap:
        return k8s.core.v1.ConfigMap(
            f"{self._name}-config",
            metadata=self._metadata(f"{self._name}-config"),
            data={_CONF_FILE: self._site_xml},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _env(self) -> list[k8s.core.v1.EnvVarArgs]:
        """Env shared by the schema Job and the server; order matters for ``$(VAR)`` expansion."""
        db = self._args.database
        env = [
            secret_env("METASTORE_DB_USER", db.credentials_secret_name, db.username_key),
            secret_env("METASTORE_DB_PASSWORD", db.credentials_secret_name, db.password_key),
            k8s.core.v1.EnvVarArgs(name="DB_DRIVER", value="postgres"),
            k8s.core.v1.EnvVarArgs(
                name="SERVICE_OPTS",
                value=pulumi.Output.concat(
                    "-Djavax.jdo.option.ConnectionDriverName=org.postgresql.Driver",
                    " -Djavax.jdo.option.ConnectionURL=",
                    db.jdbc_url,
                    " -Djavax.jdo.option.ConnectionUserName=$(METASTORE_DB_USER)",
                    " -Djavax.jdo.option.ConnectionPassword=$(METASTORE_DB_PASSWORD)",
                ),
            ),
        ]
        s3 = self._args.s3
        if s3 is not None:
            env += [
                # S3A's default credential chain reads these.
                secret_env("AWS_ACCESS_KEY_ID", s3.credentials_secret_name, s3.access_key_id_key),
                secret_env("AWS_SECRET_ACCESS_KEY", s3.credentials_secret_name, s3.secret_access_key_key),
                # hadoop-aws and the AWS SDK ship in Hadoop's tools/lib, off the default classpath.
                k8s.core.v1.EnvVarArgs(name="HADOOP_OPTIONAL_TOOLS", value="hadoop-aws"),
            ]
        return env

    def _pod_spec(
        self, container: k8s.core.v1.ContainerArgs, config_map: k8s.core.v1.ConfigMap, restart: str
    ) -> k8s.core.v1.PodSpecArgs:
        driver = self._args.jdbc_driver
        fetch = k8s.core.v1.ContainerArgs(
            name=FETCH_CONTAINER,
            image=pulumi.Output.from_input(self._args.image_registry).apply(
                lambda registry: pull_reference(driver.fetch_image, registry)
            ),
            command=["sh", "-c"],
            args=[
                'set -eu; curl -fsSL --retry 5 --retry-connrefused -o /jdbc/driver.part "$URL"; '
                'echo "$SHA256  /jdbc/driver.part" | sha256sum -c -; '
                f"mv /jdbc/driver.part /jdbc/{_DRIVER_JAR}"
            ],
            env=[
                k8s.core.v1.EnvVarArgs(name=FETCH_URL_ENV, value=driver.url),
                k8s.core.v1.EnvVarArgs(name="SHA256", value=driver.sha256),
            ],
            resources=ContainerResources(
                cpu_request="50m", memory_request="32Mi", cpu_limit="500m", memory_limit="64Mi"
            ).to_args(),
            security_context=container_security_context(),
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="jdbc", mount_path="/jdbc")],
        )
        return k8s.core.v1.PodSpecArgs(
            restart_policy=restart,
            automount_service_account_token=False,
            enable_service_links=False,
            security_context=pod_security_context(user=_HIVE_UID),
            init_containers=[fetch],
            containers=[container],
            volumes=[
                empty_dir("jdbc", size_limit="64Mi"),
                empty_dir("tmp"),
                k8s.core.v1.VolumeArgs(
                    name="config",
                    config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_map.metadata.name),
                ),
            ],
        )

    def _hive_container(
        self,
        name: str,
        env: list[k8s.core.v1.EnvVarArgs],
        *,
        command: list[str] | None = None,
        ports: list[k8s.core.v1.ContainerPortArgs] | None = None,
        probe: k8s.core.v1.TCPSocketActionArgs | None = None,
    ) -> k8s.core.v1.ContainerArgs:
        return k8s.core.v1.ContainerArgs(
            name=name,
            image=self._image,
            command=command,
            env=env,
            ports=ports,
            resources=self._args.resources.to_args(),
            # The Hadoop/Hive launcher scripts write under /opt; read-only root is unverified for them.
            security_context=container_security_context(read_only_root_filesystem=False),
            # Startup allows for JVM start and the first database connection; liveness only after it.
            startup_probe=_tcp_probe(probe, period=5, failures=60),
            liveness_probe=_tcp_probe(probe, period=20, failures=3),
            readiness_probe=_tcp_probe(probe, period=10, failures=3),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(
                    name="jdbc", mount_path=f"/opt/hive/lib/{_DRIVER_JAR}", sub_path=_DRIVER_JAR
                ),
                k8s.core.v1.VolumeMountArgs(
                    name="config", mount_path=f"/opt/hive/conf/{_CONF_FILE}", sub_path=_CONF_FILE
                ),
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),  # noqa: S108
            ],
        )

    def _create_schema_job(self, config_map: k8s.core.v1.ConfigMap) -> k8s.batch.v1.Job:
        args = self._args
        db = args.database
        # Rerun when the version (a schema upgrade) or the target database changes; never otherwise.
        # Parameters count only when there are any, so a stack without them keeps its Job.
        params = [urlencode(dict(db.params))] if db.params else []
        checksum = pulumi.Output.all(self._image, db.host).apply(
            lambda parts: config_checksum(parts[0], parts[1], str(db.port), db.database, *params)
        )
        container = self._hive_container(
            "schematool",
            [
                *self._env(),
                k8s.core.v1.EnvVarArgs(name="HADOOP_CLIENT_OPTS", value="-Xmx1G $(SERVICE_OPTS)"),
            ],
            # The entrypoint would go on to start a server; call schematool directly. It reads the
            # connection from HADOOP_CLIENT_OPTS, as the entrypoint arranges for itself.
            command=["/opt/hive/bin/schematool", "-dbType", "postgres", "-initOrUpgradeSchema"],
        )
        return one_shot_job(
            f"{self._name}-schema-job",
            object_name=pulumi.Output.concat(self._name, "-schema-", checksum),
            namespace=args.namespace,
            labels={**self._labels, "app.kubernetes.io/component": "metastore-schema"},
            pod_spec=self._pod_spec(container, config_map, restart="Never"),
            ttl_seconds_after_finished=args.job_ttl_seconds,
            backoff_limit=4,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_deployment(
        self, config_map: k8s.core.v1.ConfigMap, schema_job: k8s.batch.v1.Job | None
    ) -> k8s.apps.v1.Deployment:
        container = self._hive_container(
            "metastore",
            [
                *self._env(),
                k8s.core.v1.EnvVarArgs(name="SERVICE_NAME", value="metastore"),
                k8s.core.v1.EnvVarArgs(name="METASTORE_PORT", value=str(PORT)),
                # The schema Job owns the schema; the server must never init or upgrade it.
                k8s.core.v1.EnvVarArgs(name="IS_RESUME", value="true"),
            ],
            ports=[k8s.core.v1.ContainerPortArgs(name="thrift", container_port=PORT)],
            probe=k8s.core.v1.TCPSocketActionArgs(port="thrift"),
        )
        return k8s.apps.v1.Deployment(
            f"{self._name}-deployment",
            metadata=self._metadata(self._name),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=self._args.replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(
                    match_labels=selector_labels(_APP, _COMPONENT, self._name)
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=self._labels,
                        annotations=self._pod_annotations(),
                    ),
                    spec=self._pod_spec(container, config_map, restart="Always"),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[schema_job] if schema_job else []),
        )

    def _pod_annotations(self) -> dict[str, pulumi.Input[str]]:
        # A subPath mount never sees ConfigMap updates; roll the pods instead.
        annotations: dict[str, pulumi.Input[str]] = {
            "pipeline-sandbox/config-checksum": self._site_xml.apply(config_checksum)
        }
        if self._args.external_schema is not None:
            annotations["pipeline-sandbox/schema"] = self._args.external_schema
        return annotations

    def _create_service(self) -> k8s.core.v1.Service:
        return cluster_ip_service(
            f"{self._name}-service",
            metadata=self._metadata(self._name),
            selector=selector_labels(_APP, _COMPONENT, self._name),
            ports=[("thrift", PORT)],
            opts=pulumi.ResourceOptions(parent=self),
        )


def metastore_site_xml(s3: MetastoreS3 | None, s3_endpoint: str | None = None) -> str:
    """``metastore-site.xml``: overrides the image's ``hive-site.xml``; holds no secret.

    Args:
        s3: S3A settings, or None for no S3 access.
        s3_endpoint: the resolved ``s3.endpoint``.
    """
    properties = {
        # The image's hive-site.xml sets this too; repeated so the file stands alone.
        "metastore.metastore.event.db.notification.api.auth": "false",
    }
    if s3 is not None and s3_endpoint is not None:
        properties.update(
            {
                "fs.s3a.endpoint": s3_endpoint,
                "fs.s3a.path.style.access": "true" if s3.path_style_access else "false",
                "fs.s3a.connection.ssl.enabled": "true" if s3_endpoint.startswith("https://") else "false",
                "fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
            }
        )
        if s3.warehouse_dir is not None:
            properties["metastore.warehouse.dir"] = s3.warehouse_dir
    body = "".join(
        f"  <property>\n    <name>{escape(k)}</name>\n    <value>{escape(v)}</value>\n  </property>\n"
        for k, v in properties.items()
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n{body}</configuration>\n'


def _site_xml_output(s3: MetastoreS3 | None) -> pulumi.Output[str]:
    if s3 is None:
        return pulumi.Output.from_input(metastore_site_xml(None))
    return pulumi.Output.from_input(s3.endpoint).apply(lambda endpoint: metastore_site_xml(s3, endpoint))


def _tcp_probe(
    port: k8s.core.v1.TCPSocketActionArgs | None, *, period: int, failures: int
) -> k8s.core.v1.ProbeArgs | None:
    if port is None:
        return None
    return k8s.core.v1.ProbeArgs(tcp_socket=port, period_seconds=period, failure_threshold=failures)
