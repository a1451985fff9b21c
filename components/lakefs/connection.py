"""`LakeFSConnection`: how every lakeFS resource reaches the server.

The connection travels as an ordinary resource input (the dynamic providers are pickled and hold no
state), and is stored in each resource's outputs so that refresh and delete can reach lakeFS too.
The secret access key is wrapped in `pulumi.Output.secret`, and every resource lists `connection` in
`additional_secret_outputs`, so the key is encrypted in the state and never shown in plain form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi


@dataclass(frozen=True)
class LakeFSConnection:
    """Endpoint and credentials of one lakeFS server.

    Args:
        endpoint: lakeFS base URL, e.g. "http://lakefs.lakefs.svc:8000".
        access_key_id: lakeFS access key id.
        secret_access_key: lakeFS secret access key; made a Pulumi secret here.
        timeout_seconds: Timeout of one HTTP call.
        max_retries: Retries of idempotent calls (GET, DELETE) on 5xx and connection failures.
        backoff_seconds: First retry delay; doubles on each retry.
    """

    endpoint: pulumi.Input[str]
    access_key_id: pulumi.Input[str]
    secret_access_key: pulumi.Input[str]
    timeout_seconds: float = 10.0
    max_retries: int = 3
    backoff_seconds: float = 0.5

    def to_props(self) -> dict[str, Any]:
        """The `connection` resource property."""
        return {
            "endpoint": self.endpoint,
            "access_key_id": self.access_key_id,
            "secret_access_key": pulumi.Output.secret(self.secret_access_key),
            "timeout_seconds": self.timeout_seconds,
            "max_retries": self.max_retries,
            "backoff_seconds": self.backoff_seconds,
        }


def to_camel(name: str) -> str:
    """snake_case Python property name to the camelCase name the engine and providers see."""
    if name.startswith("_"):
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_UPPER = re.compile(r"(?<=[a-z0-9])([A-Z])")


def to_snake(name: str) -> str:
    """camelCase engine property name back to the Python attribute name."""
    if name.startswith("_"):
        return name
    return _UPPER.sub(r"_\1", name).lower()


class LakeFSResource(pulumi.dynamic.Resource):
    """Common base: camelCase on the wire, snake_case attributes, the connection kept secret."""

    def __init__(
        self,
        provider: pulumi.dynamic.ResourceProvider,
        name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None,
    ) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=["connection"])
        super().__init__(provider, name, props, pulumi.ResourceOptions.merge(opts, secret))

    def translate_input_property(self, prop: str) -> str:
        return to_camel(prop)

    def translate_output_property(self, prop: str) -> str:
        return to_snake(prop)
