"""The Dagster chart values against the chart's published values schema.

Two checks:
- Always (CI): :data:`DAGSTER_SCHEMA_EXCERPT`, the part of ``helm/dagster/values.schema.json`` that
  the values we set touch, transcribed from dagster-io/dagster (stored file at commit ``bdb8547``, a
  chart older than the pinned 1.13.28, whose exact schema was not available here; property names,
  enums and types as published). It is stricter than the real schema in one way: every object is
  closed, so a misspelt key fails here even where Helm would ignore it (the published schema leaves
  the top level, ``postgresql``, ``global`` and each code-location deployment open).
- When the real schema is available (``DAGSTER_CHART_SCHEMA=/path/values.schema.json`` or
  ``shared/charts/dagster/<version>/values.schema.json`` next to the repository), the values are
  validated against it: ``required`` is dropped, since Helm checks the merge with the chart's own
  ``values.yaml`` and we only hold our overrides, and references to the remote Kubernetes
  definitions are dropped, since CI has no network (our own manifests get strict Kubernetes checks).

The lakeFS chart (treeverse/charts ``charts/lakefs`` 1.12.16) publishes no ``values.schema.json``;
its value names are pinned by ``test_tier_lakefs_server.py`` instead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pulumi
import pytest

from components.tier.dagster_host import CodeLocation, DagsterHostArgs, PostgresConnection, dagster_values
from components.tier.dagster_images import merge_values, mirrored_image_values
from tests.conftest import PROJECT_ROOT

DAGSTER_VERSION = "1.13.28"


def _closed(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "additionalProperties": False}


_ANY: dict[str, Any] = {}
_OBJECT = {"type": "object"}
_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_STR_MAP = {"type": "object", "additionalProperties": _STR}
_NAMED = {"type": "array", "items": _closed({"name": _STR, "optional": _BOOL})}
_ENV = {"anyOf": [_STR_MAP, {"type": "array", "items": _OBJECT}]}
_IMAGE = _closed(
    {
        "repository": _STR,
        "tag": {"type": ["string", "integer", "null"]},
        "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
    }
)
# Since dagster-io/dagster#26569 the check-db-ready image is joined as <registry>/<repository>:<tag>.
_REGISTRY_IMAGE = _closed({**_IMAGE["properties"], "registry": _STR})
_POD = {
    "nodeSelector": _STR_MAP,
    "affinity": _OBJECT,
    "tolerations": {"type": "array"},
    "podSecurityContext": _OBJECT,
    "securityContext": _OBJECT,
    "resources": _OBJECT,
    "readinessProbe": _OBJECT,
    "livenessProbe": _OBJECT,
    "startupProbe": _OBJECT,
    "annotations": _STR_MAP,
    "labels": _STR_MAP,
    "deploymentLabels": _STR_MAP,
    "env": _ENV,
    "envConfigMaps": _NAMED,
    "envSecrets": _NAMED,
    "volumeMounts": {"type": ["array", "null"]},
    "volumes": {"type": ["array", "null"]},
    "schedulerName": {"type": ["string", "null"]},
    "initContainerResources": {"type": ["object", "null"]},
}
_THREADS = _closed(
    {
        "useThreads": _BOOL,
        "numWorkers": {"type": ["integer", "null"]},
        "numSubmitWorkers": {"type": ["integer", "null"]},
    }
)

DAGSTER_SCHEMA_EXCERPT: dict[str, Any] = _closed(
    {
        # Top-level keys the schema declares, plus the chart's values.yaml keys it leaves open.
        "nameOverride": _STR,
        "fullnameOverride": _STR,
        "rbacEnabled": _BOOL,
        "generatePostgresqlPasswordSecret": _BOOL,
        "telemetry": _closed({"enabled": _BOOL}),
        "ingress": _closed(
            {
                "enabled": _BOOL,
                "apiVersion": _STR,
                "labels": _OBJECT,
                "annotations": _OBJECT,
                "flower": _OBJECT,
                "dagsterWebserver": _OBJECT,
                "readOnlyDagsterWebserver": _OBJECT,
            }
        ),
        "serviceAccount": _closed({"create": _BOOL, "name": _STR, "annotations": _STR_MAP}),
        "global": _closed(
            {
                "postgresqlSecretName": _STR,
                "dagsterHome": _STR,
                "serviceAccountName": _STR,
                "celeryConfigSecretName": _STR,
            }
        ),
        "busybox": _closed({"image": _IMAGE}),
        "postgresql": _closed(
            {
                "image": _REGISTRY_IMAGE,
                "enabled": _BOOL,
                "postgresqlHost": _STR,
                "postgresqlUsername": _STR,
                "postgresqlPassword": _STR,
                "postgresqlDatabase": _STR,
                "postgresqlParams": _OBJECT,
                "postgresqlScheme": _STR,
                "service": _closed({"port": _INT}),
            }
        ),
        "dagsterWebserver": _closed(
            {
                **_POD,
                "replicaCount": _INT,
                "image": _IMAGE,
                "nameOverride": _STR,
                "pathPrefix": {"type": ["string", "null"]},
                "service": _closed({"type": _STR, "port": _INT, "annotations": _STR_MAP}),
                "workspace": _OBJECT,
                "enableReadOnly": _BOOL,
                "dbStatementTimeout": {"type": ["integer", "null"]},
                "dbPoolRecycle": {"type": ["integer", "null"]},
                "logLevel": {"type": ["string", "null"]},
            }
        ),
        "dagsterDaemon": _closed(
            {
                **_POD,
                "enabled": _BOOL,
                "image": _IMAGE,
                "heartbeatTolerance": _INT,
                "runMonitoring": _OBJECT,
                "runRetries": _OBJECT,
                # No `enabled`: the chart cannot switch schedules or sensors off.
                "sensors": _THREADS,
                "schedules": _THREADS,
                "runCoordinator": _closed(
                    {
                        "enabled": _BOOL,
                        "type": {"enum": ["QueuedRunCoordinator", "CustomRunCoordinator"]},
                        "config": _closed(
                            {
                                "queuedRunCoordinator": _closed(
                                    {
                                        "maxConcurrentRuns": {"type": ["integer", "object", "null"]},
                                        "tagConcurrencyLimits": {"type": ["array", "null"]},
                                        "dequeueIntervalSeconds": {"type": ["integer", "object", "null"]},
                                        "dequeueNumWorkers": {"type": ["integer", "object", "null"]},
                                        "dequeueUseThreads": {"type": ["boolean", "null"]},
                                        "blockOpConcurrencyLimitedRuns": {"type": ["object", "null"]},
                                    }
                                ),
                                "customRunCoordinator": {"type": ["object", "null"]},
                            }
                        ),
                    }
                ),
            }
        ),
        "runLauncher": _closed(
            {
                "type": {"enum": ["CeleryK8sRunLauncher", "K8sRunLauncher", "CustomRunLauncher"]},
                "config": _closed(
                    {
                        "k8sRunLauncher": _closed(
                            {
                                "image": {"type": ["object", "null"]},
                                "imagePullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
                                "jobNamespace": {"type": ["string", "null"]},
                                "loadInclusterConfig": _BOOL,
                                "kubeconfigFile": {"type": ["string", "null"]},
                                "envConfigMaps": _NAMED,
                                "envSecrets": _NAMED,
                                "envVars": {"type": "array", "items": _STR},
                                "volumeMounts": {"type": "array"},
                                "volumes": {"type": "array"},
                                "labels": {"type": ["object", "null"], "additionalProperties": _STR},
                                "failPodOnRunFailure": {"type": ["boolean", "null"]},
                                "resources": {"type": ["object", "null"]},
                                "schedulerName": {"type": ["string", "null"]},
                                "securityContext": {"type": ["object", "null"]},
                                "runK8sConfig": {"type": ["object", "null"]},
                            }
                        ),
                        "celeryK8sRunLauncher": {"type": ["object", "null"]},
                        "customRunLauncher": {"type": ["object", "null"]},
                    }
                ),
            }
        ),
        "dagster-user-deployments": _closed(
            {
                "enabled": _BOOL,
                "enableSubchart": _BOOL,
                "imagePullSecrets": {"type": "array"},
                "deployments": {
                    "type": "array",
                    "items": _closed(
                        {
                            **_POD,
                            "name": _STR,
                            "image": _IMAGE,
                            "dagsterApiGrpcArgs": {"type": "array", "items": _STR},
                            "codeServerArgs": {"type": "array", "items": _STR},
                            "includeConfigInLaunchedRuns": _closed({"enabled": _BOOL}),
                            "deploymentNamespace": _STR,
                            "port": _INT,
                            "initContainers": {"type": "array"},
                            "sidecarContainers": {"type": "array"},
                        }
                    ),
                },
            }
        ),
    }
)


def sample_values(**overrides: Any) -> dict[str, Any]:
    """Values as a sandbox would build them, resolved to plain data (no Outputs)."""
    fields: dict[str, Any] = {
        "namespace": "sbx-feature-x",
        "dagster_version": DAGSTER_VERSION,
        "code_location": CodeLocation(
            name="pipeline",
            image_repository="registry.example.com/pipeline",
            image_tag="abc123",
            grpc_args=("-m", "pipeline.definitions"),
            env={"LAKEFS_BRANCH": "sbx-x"},
            env_secrets=("lakefs-credentials",),
        ),
        "postgres": PostgresConnection(
            host="postgres.tier.svc.cluster.local",
            username="u",
            database="d",
            password=pulumi.Output.secret("unused"),
            params={"sslmode": "require"},
        ),
    }
    return dagster_values(DagsterHostArgs(**{**fields, **overrides}), password_secret_name="dagster-pg")


@pytest.mark.parametrize(
    "overrides", [{}, {"job_namespace": "sbx-jobs", "schedules": True, "sensors": True, "create_rbac": False}]
)
def test_values_use_only_keys_and_types_the_chart_schema_declares(overrides: dict[str, Any]) -> None:
    jsonschema.validate(sample_values(**overrides), DAGSTER_SCHEMA_EXCERPT)


def test_values_with_images_from_a_mirror_use_only_keys_and_types_the_chart_schema_declares() -> None:
    values = merge_values(sample_values(), mirrored_image_values(DAGSTER_VERSION, "registry.internal/mirror"))
    jsonschema.validate(values, DAGSTER_SCHEMA_EXCERPT)
    assert values["postgresql"]["enabled"] is False  # merged into, not replaced


def test_excerpt_catches_a_misspelt_key() -> None:
    values = sample_values()
    values["dagsterDaemon"]["schedules"] = {"enabled": False}
    with pytest.raises(jsonschema.ValidationError, match="enabled"):
        jsonschema.validate(values, DAGSTER_SCHEMA_EXCERPT)


def _real_schema_path() -> Path | None:
    candidates = [
        os.environ.get("DAGSTER_CHART_SCHEMA", ""),
        str(PROJECT_ROOT.parent / "shared" / "charts" / "dagster" / DAGSTER_VERSION / "values.schema.json"),
    ]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def overlay_schema(schema: Any) -> Any:
    """The published schema as a check of an override file: no ``required``, no remote ``$ref``."""
    if isinstance(schema, dict):
        return {
            key: overlay_schema(value)
            for key, value in schema.items()
            if key != "required" and not (key == "$ref" and str(value).startswith("http"))
        }
    if isinstance(schema, list):
        return [overlay_schema(item) for item in schema]
    return schema


def test_values_against_the_published_schema_when_provided() -> None:
    path = _real_schema_path()
    if path is None:
        pytest.skip("no Dagster chart schema: set DAGSTER_CHART_SCHEMA or add shared/charts/dagster/...")
    schema = overlay_schema(json.loads(path.read_text()))
    jsonschema.validate(sample_values(), schema)


def test_overlay_schema_keeps_key_checks_but_not_required_or_remote_refs() -> None:
    published = {
        "type": "object",
        "properties": {"a": {"$ref": "https://kubernetesjsonschema.dev/x.json", "type": "object"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    }
    overlay = overlay_schema(published)
    jsonschema.validate({}, overlay)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"c": 1}, overlay)
