"""``python -m jaxrg ARGS``: the ``jaxrg`` command without the console script."""

import sys

from jaxrg.cli import main

sys.exit(main())
