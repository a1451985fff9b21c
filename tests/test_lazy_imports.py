"""A sandbox stack's evaluation never pays for (or depends on) the AWS SDK."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

_PROBE = """
import json, sys
from tests.sandbox_support import sandbox_run
run = sandbox_run({"sandbox:branch": "feature/x", "sandbox:owner": "bob@example.com",
                   "sandbox:image": "registry.example.com/pipeline:abc123"}, stack="bob-x")
print(json.dumps({"namespace": run.outputs["namespace"],
                  "aws": sorted(m for m in sys.modules if m.startswith("pulumi_aws"))}))
"""


def test_sandbox_stack_never_imports_pulumi_aws() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["namespace"].startswith("sbx-feature-x")
    assert report["aws"] == []
