"""The shared manifest helper turns declared objects into manifests and really rejects bad ones."""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes as k8s
import pytest

from tests.conftest import run_under_mocks
from tests.k8s_manifests import api_version_and_kind, assert_valid_manifests, manifest_errors, manifests


def _declare(labels_field: str) -> None:
    # A plain dict, as a typo in untyped input would reach the provider.
    metadata: Any = {"name": "settings", "namespace": "ns", labels_field: {"a": "b"}}
    k8s.core.v1.ConfigMap(
        "settings",
        metadata=metadata,
        data={"key": "value"},
    )
    k8s.apps.v1.Deployment(
        "web",
        metadata=k8s.meta.v1.ObjectMetaArgs(name="web", namespace="ns"),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=2,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app": "web"}),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels={"app": "web"}),
                spec=k8s.core.v1.PodSpecArgs(
                    containers=[k8s.core.v1.ContainerArgs(name="web", image="nginx:1.27")]
                ),
            ),
        ),
    )


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("kubernetes:core/v1:Secret", ("v1", "Secret")),
        ("kubernetes:apps/v1:StatefulSet", ("apps/v1", "StatefulSet")),
        ("kubernetes:rbac.authorization.k8s.io/v1:Role", ("rbac.authorization.k8s.io/v1", "Role")),
    ],
)
def test_type_tokens_map_to_api_version_and_kind(token: str, expected: tuple[str, str]) -> None:
    assert api_version_and_kind(token) == expected


def test_valid_objects_become_manifests_with_integer_numbers() -> None:
    run = run_under_mocks(lambda: _declare("labels"))

    found = {m["kind"]: m for m in manifests(run)}
    assert found["ConfigMap"]["apiVersion"] == "v1"
    assert found["Deployment"]["spec"]["replicas"] == 2
    assert isinstance(found["Deployment"]["spec"]["replicas"], int)
    assert_valid_manifests(run, "1.33")


def test_a_misspelt_field_fails_naming_resource_and_path() -> None:
    run = run_under_mocks(lambda: _declare("lables"))

    errors = manifest_errors(run, "1.33")
    assert len(errors) == 1
    assert "kubernetes:core/v1:ConfigMap 'settings'" in errors[0]
    assert "lables" in errors[0]
    with pytest.raises(AssertionError, match="settings"):
        assert_valid_manifests(run, "1.33")


def test_a_run_without_kubernetes_objects_is_not_silently_valid() -> None:
    run = run_under_mocks(lambda: None)

    with pytest.raises(AssertionError, match="no Kubernetes objects"):
        assert_valid_manifests(run, "1.33")
