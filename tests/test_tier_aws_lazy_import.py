"""Only the aws modules import pulumi_aws; config and the tier package stay free of it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

_PROBE = """
import json, sys
import components, components.config, components.config.aws, components.tier
before = sorted(m for m in sys.modules if m.startswith("pulumi_aws"))
import components.tier.aws_storage
after = sorted(m for m in sys.modules if m.startswith("pulumi_aws"))
print(json.dumps({"before": before, "after": bool(after)}))
"""


def test_config_and_tier_packages_do_not_import_pulumi_aws() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["before"] == []
    # The probe can tell: importing an aws module does load the SDK.
    assert report["after"] is True
