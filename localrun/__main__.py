"""``python -m localrun demo``: see ``localrun.cli``."""

from __future__ import annotations

import sys

INSTALL_HINT = (
    "install the local runtime's dependencies: pip install 'dynamodb-stream-replicator[local]' "
    "(from a clone: make, or pip install -e '.[local]')"
)


def run() -> int:
    """The local runtime's CLI, or one line naming what is missing when the ``local`` extra is not in."""
    try:
        # Imported here, not at the top: the wheel ships this package without moto and matplotlib
        # (they are the ``local`` extra), and a missing one deserves an instruction, not a traceback.
        from localrun.cli import main  # noqa: PLC0415
    except ModuleNotFoundError as exc:
        missing = (exc.name or "a module").partition(".")[0]
        print(f"error: the local runtime cannot import {missing}; {INSTALL_HINT}", file=sys.stderr)
        return 2
    return main()


if __name__ == "__main__":
    sys.exit(run())
