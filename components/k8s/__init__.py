"""Kubernetes conventions every component shares: labels, security contexts, resources, names, Jobs.

Imports only ``pulumi`` and ``pulumi_kubernetes``; the sandbox path may import it freely.
"""

from components.k8s.jobs import config_checksum, one_shot_job, one_shot_pod_spec
from components.k8s.labels import PART_OF, selector_labels, standard_labels
from components.k8s.names import CLUSTER_DOMAIN, check_object_name, service_host
from components.k8s.pods import config_map_volume, empty_dir, secret_env
from components.k8s.resources import ContainerResources
from components.k8s.secrets import opaque_secret
from components.k8s.security import (
    container_security_context,
    pod_security_admission_labels,
    pod_security_context,
)

__all__ = [
    "CLUSTER_DOMAIN",
    "PART_OF",
    "ContainerResources",
    "check_object_name",
    "config_checksum",
    "config_map_volume",
    "container_security_context",
    "empty_dir",
    "one_shot_job",
    "one_shot_pod_spec",
    "opaque_secret",
    "pod_security_admission_labels",
    "pod_security_context",
    "secret_env",
    "selector_labels",
    "service_host",
    "standard_labels",
]
