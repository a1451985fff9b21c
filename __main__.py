"""pipeline-sandbox: one program for shared-tier stacks (dev/stage/prod) and per-branch sandboxes.

Config is read and validated once, before any resource is declared; then one root component is
built and its contract exported. Heavy modules are imported only on the path that needs them.
"""

from pathlib import Path

import pulumi

from components.config import TierStackConfig, load_stack_config
from components.config.source import raw_config, secret_config_keys

stack_config = load_stack_config(
    raw_config(), secret_config_keys(), Path(__file__).resolve().parent, pulumi.get_project()
)

if isinstance(stack_config, TierStackConfig):
    from components.tier import Tier, TierArgs

    tier = Tier("tier", TierArgs(stack=pulumi.get_stack(), settings=stack_config))
    for name, value in tier.stack_outputs().items():
        pulumi.export(name, value)
else:
    from components.sandbox import Sandbox, SandboxArgs
    from components.sandbox.code_image import warn_if_unpublished

    warn_if_unpublished(stack_config)
    sandbox = Sandbox("sandbox", SandboxArgs(settings=stack_config))
    for name, value in sandbox.stack_outputs().items():
        pulumi.export(name, value)
