"""LakeFSServer: the pinned official chart, values for MinIO and for AWS S3 with IRSA, secrets in Secrets."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
import yaml

from components.tier.lakefs_server import (
    AwsS3Blockstore,
    LakeFSServer,
    LakeFSServerArgs,
    MinioBlockstore,
)
from tests.conftest import ProgramRun, run_under_mocks
from tests.k8s_manifests import assert_valid_manifests

CHART = "kubernetes:helm.sh/v4:Chart"
SECRET = "kubernetes:core/v1:Secret"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
GENERATED_KEY = "generated-encrypt-key-0123456789"
DB_PASSWORD = "db-password-that-must-stay-secret"
MINIO_SECRET_KEY = "minio-secret-key-that-must-stay-secret"
ROLE_ARN = "arn:aws:iam::123456789012:role/lakefs"


def minio() -> MinioBlockstore:
    return MinioBlockstore(
        endpoint="http://minio.tier.svc.cluster.local:9000",
        access_key_id="lakefs-access",
        secret_access_key=pulumi.Output.secret(MINIO_SECRET_KEY),
    )


def deploy(blockstore: MinioBlockstore | AwsS3Blockstore, **overrides: Any) -> ProgramRun:
    def program() -> None:
        server = LakeFSServer(
            "lakefs",
            LakeFSServerArgs(
                namespace="tier",
                chart_version="1.12.16",
                image_tag="1.84.0",
                database_connection_string=pulumi.Output.secret(
                    f"postgres://lakefs:{DB_PASSWORD}@postgres.tier.svc.cluster.local:5432/lakefs"
                ),
                blockstore=blockstore,
                **overrides,
            ),
        )
        pulumi.export("endpoint", server.internal_endpoint)
        pulumi.export("service", server.service_name)
        pulumi.export("port", server.service_port)

    return run_under_mocks(program, computed={RANDOM_PASSWORD: lambda _: {"result": GENERATED_KEY}})


def values_of(run: ProgramRun) -> dict[str, Any]:
    return dict(run.one(CHART).inputs["values"])


def test_chart_is_the_official_one_pinned() -> None:
    chart = deploy(minio()).one(CHART)
    assert chart.inputs["chart"] == "lakefs"
    assert chart.inputs["version"] == "1.12.16"
    assert chart.inputs["repositoryOpts"] == {"repo": "https://charts.lakefs.io"}
    assert chart.inputs["namespace"] == "tier"
    assert chart.inputs["name"] == "lakefs"
    values = values_of(deploy(minio()))
    assert values["image"]["repository"] == "treeverse/lakefs"
    assert values["image"]["community"]["tag"] == "1.84.0"


def test_postgres_kv_and_keys_come_from_the_secret_the_component_creates() -> None:
    run = deploy(minio())
    values = values_of(run)
    assert yaml.safe_load(values["lakefsConfig"])["database"] == {"type": "postgres"}
    assert values["existingSecret"] == "lakefs-server"
    assert values["secretKeys"] == {
        "databaseConnectionString": "database_connection_string",
        "authEncryptSecretKey": "auth_encrypt_secret_key",
    }
    server_secret = run.one(SECRET, "lakefs-server-secret")
    assert server_secret.inputs["metadata"]["name"] == "lakefs-server"
    keys = {"database_connection_string", "auth_encrypt_secret_key"}
    assert set(server_secret.inputs["stringData"]) == keys
    # The generated key, never the chart's hard-coded fallback (used when no secret is configured).
    assert server_secret.inputs["stringData"]["auth_encrypt_secret_key"] == GENERATED_KEY
    assert "stringData" in server_secret.secret_inputs
    # The chart waits for its Secrets.
    assert server_secret.urn in run.one(CHART).dependencies


def test_minio_blockstore_uses_endpoint_path_style_and_keys_from_a_secret() -> None:
    run = deploy(minio())
    values = values_of(run)
    s3 = yaml.safe_load(values["lakefsConfig"])["blockstore"]
    assert s3["type"] == "s3"
    assert s3["s3"]["endpoint"] == "http://minio.tier.svc.cluster.local:9000"
    assert s3["s3"]["force_path_style"] is True
    assert "credentials" not in s3["s3"]
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in values["extraEnvVars"]}
    assert env == {
        "LAKEFS_BLOCKSTORE_S3_CREDENTIALS_ACCESS_KEY_ID": {
            "name": "lakefs-blockstore",
            "key": "access_key_id",
        },
        "LAKEFS_BLOCKSTORE_S3_CREDENTIALS_SECRET_ACCESS_KEY": {
            "name": "lakefs-blockstore",
            "key": "secret_access_key",
        },
    }
    blockstore_secret = run.one(SECRET, "lakefs-blockstore-secret")
    assert blockstore_secret.inputs["stringData"]["secret_access_key"] == MINIO_SECRET_KEY
    assert "eks.amazonaws.com/role-arn" not in values["serviceAccount"].get("annotations", {})


def test_aws_blockstore_uses_irsa_and_no_static_keys() -> None:
    run = deploy(AwsS3Blockstore(region="eu-west-1", role_arn=ROLE_ARN))
    values = values_of(run)
    s3 = yaml.safe_load(values["lakefsConfig"])["blockstore"]["s3"]
    assert s3 == {"region": "eu-west-1"}
    assert "extraEnvVars" not in values
    assert values["serviceAccount"] == {
        "create": True,
        "name": "lakefs",
        "annotations": {"eks.amazonaws.com/role-arn": ROLE_ARN},
    }
    assert [s.name for s in run.of_type(SECRET)] == ["lakefs-server-secret"]


@pytest.mark.parametrize("variant", ["minio", "aws"])
def test_no_secret_value_in_plain_chart_values(variant: str) -> None:
    blockstore = minio() if variant == "minio" else AwsS3Blockstore(region="eu-west-1", role_arn=ROLE_ARN)
    run = deploy(blockstore)
    chart = run.one(CHART)
    text = json.dumps(chart.inputs)
    for secret in (GENERATED_KEY, DB_PASSWORD, MINIO_SECRET_KEY):
        assert secret not in text
    assert chart.secret_inputs == set()


@pytest.mark.parametrize("variant", ["minio", "aws"])
def test_secrets_are_strictly_valid_and_labelled(variant: str) -> None:
    blockstore = minio() if variant == "minio" else AwsS3Blockstore(region="eu-west-1", role_arn=ROLE_ARN)
    run = deploy(blockstore)
    assert_valid_manifests(run, "1.33")
    for secret in run.of_type(SECRET):
        labels = secret.inputs["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "pipeline-sandbox"
        assert labels["app.kubernetes.io/managed-by"] == "pulumi"
        assert labels["app.kubernetes.io/instance"] == "lakefs"
        assert secret.inputs["metadata"]["namespace"] == "tier"


def test_hardened_pod_and_sized_container() -> None:
    values = values_of(deploy(minio(), replicas=2))
    assert values["replicaCount"] == 2
    assert values["resources"]["limits"] and values["resources"]["requests"]
    assert values["podSecurityContext"]["runAsNonRoot"] is True
    assert values["podSecurityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = values["securityContext"]
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"] == {"drop": ["ALL"]}
    assert container["readOnlyRootFilesystem"] is True
    # With a read-only root, lakeFS's cache and /tmp need volumes of their own.
    assert "emptyDir" in values["committedLocalCacheVolume"]
    assert {"name": "tmp", "mountPath": "/tmp"} in values["extraVolumeMounts"]


def test_outputs_name_the_in_cluster_endpoint() -> None:
    run = deploy(minio())
    assert run.outputs == {
        "endpoint": "http://lakefs.tier.svc.cluster.local",
        "service": "lakefs",
        "port": 80,
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"release_name": "LakeFS"}, "release_name: 'LakeFS' cannot name Kubernetes objects"),
        ({"replicas": 0}, "replicas: expected at least 1"),
    ],
)
def test_bad_args_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(Exception, match=message):
        deploy(minio(), **overrides)
