"""Shared test helper: the raw Kubernetes objects a run declared, as manifests, and their strict validation.

Not a test module; import ``manifests`` and ``assert_valid_manifests`` from here.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import kubernetes_validate

from tests.conftest import Declared, ProgramRun

# Types that are not one Kubernetes object: provider resources, Helm charts, YAML/kustomize groups
# (components whose children are declared separately) and Server-Side Apply patches of existing objects.
_NOT_OBJECTS = ("pulumi:providers:", "kubernetes:helm.sh/", "kubernetes:yaml/", "kubernetes:kustomize/")


def is_kubernetes_object(resource: Declared) -> bool:
    """True for a raw Kubernetes object such as ``kubernetes:apps/v1:StatefulSet``."""
    return (
        resource.custom
        and resource.type.startswith("kubernetes:")
        and not resource.type.startswith(_NOT_OBJECTS)
        and not resource.type.endswith("Patch")
        and not resource.type.endswith("List")
    )


def api_version_and_kind(type_token: str) -> tuple[str, str]:
    """``kubernetes:apps/v1:StatefulSet`` -> ``("apps/v1", "StatefulSet")``; ``core/v1`` -> ``v1``."""
    _, module, kind = type_token.split(":")
    group, _, version = module.rpartition("/")
    return (version if group == "core" else module), kind


def to_manifest(resource: Declared) -> dict[str, Any]:
    """The object as the provider would send it (inputs are camelCase already)."""
    api_version, kind = api_version_and_kind(resource.type)
    body = {k: _as_json_number(v) for k, v in resource.inputs.items() if k not in ("apiVersion", "kind")}
    return {"apiVersion": api_version, "kind": kind, **body}


def manifests(run: ProgramRun) -> list[dict[str, Any]]:
    """Every raw Kubernetes object the run declared, as a manifest dict, in declaration order."""
    return [to_manifest(r) for r in run.resources if is_kubernetes_object(r)]


def manifest_errors(run: ProgramRun, k8s_version: str, *, ignore_kinds: Collection[str] = ()) -> list[str]:
    """One line per object that fails strict validation for ``k8s_version``, naming resource and path."""
    errors = []
    for resource in run.resources:
        if not is_kubernetes_object(resource):
            continue
        manifest = to_manifest(resource)
        if manifest["kind"] in ignore_kinds:
            continue
        where = f"{resource.type} {resource.name!r}"
        try:
            kubernetes_validate.validate(manifest, k8s_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.absolute_path) or "<root>"
            errors.append(f"{where}: at {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            errors.append(f"{where}: {error.message}")
    return errors


def assert_valid_manifests(run: ProgramRun, k8s_version: str, *, ignore_kinds: Collection[str] = ()) -> None:
    """Fails unless every raw Kubernetes object of ``run`` is valid under the strict schema.

    Args:
        k8s_version: a minor version such as ``1.33``.
        ignore_kinds: kinds without a bundled schema (custom resources) to leave out.
    """
    assert any(is_kubernetes_object(r) for r in run.resources), "the run declared no Kubernetes objects"
    errors = manifest_errors(run, k8s_version, ignore_kinds=ignore_kinds)
    assert not errors, f"invalid manifests for Kubernetes {k8s_version}:\n" + "\n".join(errors)


def _as_json_number(value: Any) -> Any:
    # Inputs travel as a protobuf Struct, where every number is a double; the API server gets ints.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _as_json_number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json_number(v) for v in value]
    return value


def pod_spec(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a Deployment, StatefulSet or Job manifest; None for other kinds."""
    if manifest["kind"] in ("Deployment", "StatefulSet", "Job", "DaemonSet", "ReplicaSet"):
        spec: dict[str, Any] = manifest["spec"]["template"]["spec"]
        return spec
    return None


def containers(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Init and regular containers of a workload manifest."""
    spec = pod_spec(manifest) or {}
    return [*spec.get("initContainers", []), *spec.get("containers", [])]
