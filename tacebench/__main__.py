"""``python -m tacebench`` is the ``tacebench`` command."""
import sys

from tacebench.cli import main

sys.exit(main())
