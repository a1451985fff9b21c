"""``pipeline-sandbox``: list, inspect, pause and reclaim every sandbox stack of the project.

The command works with the program's own ``components`` (naming, config rules, the lakeFS safe
delete) from the checkout it is installed from (``make setup`` installs it editable). Only this
package is installed; the checkout goes on the import path here, so ``components`` stays out of the
venv's site-packages and resolves exactly as it does for the program.
"""

import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "components" / "__init__.py").is_file() and str(_CHECKOUT) not in sys.path:
    sys.path.insert(0, str(_CHECKOUT))
