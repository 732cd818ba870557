"""``python -m microseq ...``: the ``microseq`` command (see :mod:`microseq.cli`)."""

import sys

from .cli import main

sys.exit(main())
