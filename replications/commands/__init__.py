"""Sub-commands of the ``tacebench`` console script (see :mod:`replications.cli`)."""
