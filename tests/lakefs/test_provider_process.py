"""The providers load where the engine runs them: a fresh Python process started in the project dir.

Pulumi's dynamic provider host is a separate interpreter that base64-decodes and `dill.loads` the
`__provider` input. dill pickles our classes by reference (module path + name), so this only works
when `components.*` is importable from that process's working directory, without any PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

from components.lakefs import (
    BranchDeleteGuardProvider,
    BranchProtectionProvider,
    BranchProvider,
    LakeFSSetupProvider,
    RepositoryProvider,
    TagProvider,
)
from components.sandbox.lease import SandboxLeaseProvider
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.lakefs

_CONNECTION = {"endpoint": "http://lakefs:8000", "accessKeyId": "AKIA", "secretAccessKey": "s"}

# In the child: what the provider host does, then one network-free method; prints JSON.
_CHILD = """
import base64, json, sys
import dill
request = json.loads(sys.stdin.read())
provider = dill.loads(base64.b64decode(request["provider"]))
result = provider.check({}, request["inputs"])
print(json.dumps({
    "type": type(provider).__module__ + "." + type(provider).__qualname__,
    "failures": [f.property for f in result.failures],
}))
"""

CASES: list[tuple[ResourceProvider, dict[str, Any]]] = [
    (
        RepositoryProvider(),
        {"connection": _CONNECTION, "name": "lake", "storageNamespace": "s3://b/lake"},
    ),
    (BranchProvider(), {"connection": _CONNECTION, "repository": "lake", "branch": "b", "sourceRef": "main"}),
    (
        BranchDeleteGuardProvider(),
        {"connection": _CONNECTION, "repository": "lake", "branch": "b", "sourceCommit": "c" * 64},
    ),
    (BranchProtectionProvider(), {"connection": _CONNECTION, "repository": "lake", "patterns": ["main"]}),
    (TagProvider(), {"connection": _CONNECTION, "repository": "lake", "tag": "v1", "ref": "main"}),
    (LakeFSSetupProvider(), {"connection": _CONNECTION}),
    (SandboxLeaseProvider(), {"gitBranch": "feature/x", "owner": "me", "ttlSeconds": 60}),
]


def _run_child(
    provider: ResourceProvider, inputs: dict[str, Any], cwd: Path
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    request = json.dumps({"provider": serialize_provider(provider), "inputs": inputs})
    return subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=request,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(("provider", "inputs"), CASES, ids=lambda c: type(c).__name__ if c else "")
def test_provider_loads_and_runs_in_a_fresh_process(
    provider: ResourceProvider, inputs: dict[str, Any]
) -> None:
    result = _run_child(provider, inputs, PROJECT_ROOT)

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    cls = type(provider)
    assert answer == {"type": f"{cls.__module__}.{cls.__qualname__}", "failures": []}


def test_the_check_is_meaningful_outside_the_project(tmp_path: Path) -> None:
    # Control: the pickle refers to `components.*`, so elsewhere it cannot load. If this ever passes,
    # dill started embedding our code and the test above no longer proves importability.
    result = _run_child(BranchProvider(), CASES[1][1], tmp_path)

    assert result.returncode != 0
    assert "No module named 'components'" in result.stderr
