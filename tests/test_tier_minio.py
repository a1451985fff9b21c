"""LocalObjectStore: in-cluster MinIO with generated root credentials and the lakeFS bucket."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.tier.minio import LocalObjectStore, LocalObjectStoreArgs
from tests.conftest import ProgramRun, run_under_mocks
from tests.k8s_manifests import assert_valid_manifests, containers, manifests

RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
GENERATED = {RANDOM_PASSWORD: lambda a: {"result": f"generated{a.name.replace('-', '')}"}}
VERSION = "RELEASE.2025-04-22T22-12-26Z"


def run_minio(**overrides: Any) -> ProgramRun:
    settings: dict[str, Any] = {"namespace": "tier", "version": VERSION, "bucket": "lakefs-data"}
    settings.update(overrides)

    def program() -> None:
        store = LocalObjectStore("tier-minio", LocalObjectStoreArgs(**settings))
        pulumi.export("endpoint", store.endpoint)
        pulumi.export("bucket", store.bucket)
        pulumi.export("credentialsSecretName", store.credentials_secret_name)
        pulumi.export("accessKeyId", store.access_key_id)
        pulumi.export("secretAccessKey", store.secret_access_key)

    return run_under_mocks(program, computed=GENERATED)


def by_kind(run: ProgramRun, kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests(run) if m["kind"] == kind]


def test_every_manifest_is_strictly_valid_for_kubernetes_1_33() -> None:
    assert_valid_manifests(run_minio(), "1.33")


def test_objects_are_namespaced_and_labelled() -> None:
    for manifest in manifests(run_minio()):
        labels = manifest["metadata"]["labels"]
        assert manifest["metadata"]["namespace"] == "tier"
        assert labels["app.kubernetes.io/name"] == "minio"
        assert labels["app.kubernetes.io/part-of"] == "pipeline-sandbox"
        assert labels["app.kubernetes.io/managed-by"] == "pulumi"
        assert "app.kubernetes.io/component" in labels


def test_outputs_name_the_endpoint_bucket_and_credentials() -> None:
    run = run_minio()

    assert run.outputs["endpoint"] == "http://tier-minio.tier.svc.cluster.local:9000"
    assert run.outputs["bucket"] == "lakefs-data"
    (secret,) = by_kind(run, "Secret")
    assert secret["metadata"]["name"] == run.outputs["credentialsSecretName"]
    assert secret["stringData"] == {
        "access-key-id": run.outputs["accessKeyId"],
        "secret-access-key": run.outputs["secretAccessKey"],
    }
    assert {"accessKeyId", "secretAccessKey"} <= run.secret_outputs


def test_the_server_uses_pinned_image_probes_and_the_service_port() -> None:
    run = run_minio()
    (statefulset,) = by_kind(run, "StatefulSet")
    (service,) = by_kind(run, "Service")
    (server,) = containers(statefulset)

    assert server["image"] == f"quay.io/minio/minio:{VERSION}"
    assert server["livenessProbe"]["httpGet"]["path"] == "/minio/health/live"
    assert server["readinessProbe"]["httpGet"]["path"] == "/minio/health/ready"
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]}["s3"] == 9000
    assert (
        service["spec"]["selector"].items() <= statefulset["spec"]["template"]["metadata"]["labels"].items()
    )


def test_pvc_size_and_class_come_from_args() -> None:
    (statefulset,) = by_kind(run_minio(storage_size="200Gi", storage_class_name="standard"), "StatefulSet")
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "200Gi"
    assert claim["spec"]["storageClassName"] == "standard"


def test_credentials_reach_containers_only_through_secret_refs() -> None:
    run = run_minio()
    values = [f"generated{r.name.replace('-', '')}" for r in run.of_type(RANDOM_PASSWORD)]
    assert len(values) == 2

    for resource in run.resources:
        inputs = dict(resource.inputs)
        if resource.type == "kubernetes:core/v1:Secret":
            assert "stringData" in resource.secret_inputs
            inputs.pop("stringData")
        leaked = [v for v in values if v in json.dumps(inputs)]
        assert not leaked, f"{resource.type} {resource.name} holds {leaked}"


def test_the_bucket_job_is_idempotent_and_authenticates_by_reference() -> None:
    run = run_minio()
    (job,) = by_kind(run, "Job")
    (client,) = containers(job)
    env = {e["name"]: e for e in client["env"]}

    assert client["image"] == "quay.io/minio/mc:RELEASE.2025-04-16T18-13-26Z"
    assert client["args"][-3:] == ["mb", "--ignore-existing", "store/lakefs-data"]
    assert env["MC_HOST_store"]["value"] == (
        "http://$(ACCESS_KEY_ID):$(SECRET_ACCESS_KEY)@tier-minio.tier.svc.cluster.local:9000"
    )
    assert env["ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["name"] == "tier-minio-credentials"
    assert run.one("kubernetes:apps/v1:StatefulSet").urn in run.one("kubernetes:batch/v1:Job").dependencies


def test_a_new_bucket_name_reruns_the_job() -> None:
    def job_name(run: ProgramRun) -> str:
        (job,) = by_kind(run, "Job")
        return str(job["metadata"]["name"])

    assert job_name(run_minio()) == job_name(run_minio(storage_size="1Ti"))
    assert job_name(run_minio()) != job_name(run_minio(bucket="other-bucket"))


def test_every_container_is_hardened_and_bounded() -> None:
    for manifest in manifests(run_minio()):
        for container in containers(manifest):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["runAsNonRoot"] is True
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"]["drop"] == ["ALL"]
            assert {"cpu", "memory"} <= container["resources"]["limits"].keys()


def test_protect_applies_to_the_data_and_its_credentials() -> None:
    run = run_minio(protect=True)
    assert run.one("kubernetes:apps/v1:StatefulSet").protect
    assert all(r.protect for r in run.of_type(RANDOM_PASSWORD))
    assert not run.one("kubernetes:batch/v1:Job").protect
    assert not any(r.protect for r in run_minio().resources)


@pytest.mark.parametrize("bucket", ["UPPER", "a", "has_underscore", "double..dot"])
def test_invalid_bucket_names_are_rejected(bucket: str) -> None:
    with pytest.raises(ValueError, match="bucket"):
        LocalObjectStoreArgs(namespace="tier", version=VERSION, bucket=bucket)
