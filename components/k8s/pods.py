"""Small builders for pod specs: env from Secrets, scratch volumes."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s


def secret_env(name: str, secret: pulumi.Input[str], key: str) -> k8s.core.v1.EnvVarArgs:
    """An env var read from ``key`` of Secret ``secret``: the only way secrets reach a container."""
    return k8s.core.v1.EnvVarArgs(
        name=name,
        value_from=k8s.core.v1.EnvVarSourceArgs(
            secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret, key=key)
        ),
    )


def empty_dir(name: str, *, size_limit: str | None = None, memory: bool = False) -> k8s.core.v1.VolumeArgs:
    """A scratch volume, e.g. for ``/tmp`` under a read-only root filesystem."""
    return k8s.core.v1.VolumeArgs(
        name=name,
        empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(
            medium="Memory" if memory else None, size_limit=size_limit
        ),
    )


def config_map_volume(name: str, config_map: pulumi.Input[str]) -> k8s.core.v1.VolumeArgs:
    """A volume of ConfigMap ``config_map``'s keys as files, e.g. scripts a Job runs."""
    return k8s.core.v1.VolumeArgs(
        name=name, config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_map)
    )
