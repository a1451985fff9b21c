"""``python -m pipeline_sandbox_cli``: the same command as the ``pipeline-sandbox`` console script."""

import sys

from pipeline_sandbox_cli.main import main

sys.exit(main())
