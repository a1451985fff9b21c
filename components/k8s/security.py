"""Hardened pod and container security contexts (the ``restricted`` Pod Security Standard)."""

from __future__ import annotations

import pulumi_kubernetes as k8s


def container_security_context(*, read_only_root_filesystem: bool = True) -> k8s.core.v1.SecurityContextArgs:
    """No privilege escalation, no capabilities, RuntimeDefault seccomp, read-only root by default.

    Args:
        read_only_root_filesystem: turn off only for images that write outside their mounted volumes.
    """
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        privileged=False,
        read_only_root_filesystem=read_only_root_filesystem,
        run_as_non_root=True,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def pod_security_context(*, user: int, group: int | None = None) -> k8s.core.v1.PodSecurityContextArgs:
    """Runs every container as ``user`` and makes volumes group-writable for ``group``.

    Args:
        user: numeric uid; numeric so the kubelet can enforce ``runAsNonRoot`` without reading the image.
        group: gid for the primary group and ``fsGroup``; defaults to ``user``.
    """
    gid = user if group is None else group
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=user,
        run_as_group=gid,
        fs_group=gid,
        # Skips the recursive chown of big volumes on every start once ownership is right.
        fs_group_change_policy="OnRootMismatch",
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def pod_security_admission_labels(kubernetes_version: str) -> dict[str, str]:
    """Namespace labels that make the API server enforce the ``baseline`` Pod Security Standard and
    warn about (and audit) anything short of ``restricted``.

    ``baseline`` blocks privileged pods, host namespaces, hostPath and added capabilities, which nothing
    here needs. ``restricted`` is only warned about: third-party charts (Dagster's init containers, for
    one) set no container security context, and pipeline code is not ours to refuse.

    Args:
        kubernetes_version: minor version such as ``1.33``; pinning the policy version keeps a cluster
            upgrade from tightening the rules under running workloads.
    """
    version = f"v{kubernetes_version}"
    labels = {}
    for mode, level in (("enforce", "baseline"), ("warn", "restricted"), ("audit", "restricted")):
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = version
    return labels
