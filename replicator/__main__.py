"""``python -m replicator``: the operator command line (see :mod:`replicator.cli.main`)."""

from __future__ import annotations

import sys

from replicator.cli.main import main

sys.exit(main())
