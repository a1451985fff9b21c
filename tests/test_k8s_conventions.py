"""The shared Kubernetes conventions: labels, resource bounds, object names."""

from __future__ import annotations

from decimal import Decimal

import pytest

from components.k8s import ContainerResources, check_object_name, selector_labels, standard_labels
from components.k8s.resources import quantity


def test_standard_labels_extend_the_selector_labels() -> None:
    selector = selector_labels("postgres", "database", "tier-postgres")
    labels = standard_labels("postgres", "database", "tier-postgres")

    assert selector.items() <= labels.items()
    assert labels["app.kubernetes.io/part-of"] == "pipeline-sandbox"
    assert labels["app.kubernetes.io/managed-by"] == "pulumi"
    assert "app.kubernetes.io/managed-by" not in selector


@pytest.mark.parametrize(
    ("text", "value"),
    [("500m", Decimal("0.5")), ("2", Decimal(2)), ("1Gi", Decimal(2**30)), ("1G", Decimal(10**9))],
)
def test_quantities_parse(text: str, value: Decimal) -> None:
    assert quantity(text) == value


def test_a_request_above_its_limit_is_rejected() -> None:
    with pytest.raises(ValueError, match="memory request 1Gi exceeds its limit 512Mi"):
        ContainerResources(memory_request="1Gi", memory_limit="512Mi")
    with pytest.raises(ValueError, match="cpu request"):
        ContainerResources(cpu_request="2", cpu_limit="1500m")
    with pytest.raises(ValueError, match="quantity"):
        ContainerResources(cpu_limit="lots")


@pytest.mark.parametrize("name", ["Tier", "1tier", "tier_pg", "tier-", "x" * 60])
def test_names_that_cannot_name_services_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="cannot name Kubernetes objects"):
        check_object_name(name, room=10)


def test_a_valid_name_is_returned() -> None:
    assert check_object_name("tier-postgres", room=19) == "tier-postgres"
