"""``python -m localrun demo``: see ``localrun.cli``."""

from __future__ import annotations

import sys

from localrun.cli import main

if __name__ == "__main__":
    sys.exit(main())
