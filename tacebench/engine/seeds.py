"""One seed scheme for every Monte Carlo run: a replicate's stream is named by its path.

A random stream is ``SeedSequence(root, spawn_key=path)`` where ``path`` lists the names
and indices that place the draw in the run's design - for example ``(study id, r)`` for a
replicate of ``tacebench replicate``, ``(scenario, r, 0)`` for a benchmark replicate's
data and ``(scenario, r, 1, method)`` for a method's own randomness, ``(r,)`` for a lesson's
cohort ``r`` (the same in every world: common random numbers). Names enter as their CRC-32
(stable across Python versions and processes, unlike ``hash``), integers as they are.

Nothing about the stream depends on which worker, chunk or batch a replicate runs in, so
results are identical for any ``n_jobs``, backend, chunk size or batch size; a design that
gains a cell leaves the other cells' streams unchanged. ``stream_seed(root, r)`` is exactly
``SeedSequence(root).spawn(n)[r]``.

References
----------
O'Neill, M. E. (2015). PCG: A family of simple fast space-efficient statistically good
algorithms for random number generation. (NumPy's ``SeedSequence`` design.)
"""
from __future__ import annotations

import zlib
from typing import Union

import numpy as np

__all__ = ["PathPart", "name_key", "spawn_key", "stream_seed"]

PathPart = Union[str, int]


def name_key(name: str) -> int:
    """The integer a name contributes to a spawn key (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


def spawn_key(path: tuple[PathPart, ...]) -> tuple[int, ...]:
    """``path`` as a spawn key: names by :func:`name_key`, non-negative integers as is."""
    out = []
    for part in path:
        if isinstance(part, str):
            out.append(name_key(part))
        elif isinstance(part, (int, np.integer)) and not isinstance(part, bool) and part >= 0:
            out.append(int(part))
        else:
            raise ValueError(f"seed path: parts must be names or non-negative integers; got "
                             f"{part!r} in {path!r}")
    return tuple(out)


def stream_seed(root: int, *path: PathPart) -> np.random.SeedSequence:
    """The seed of the stream at ``path`` under the run's ``root`` seed.

    Parameters
    ----------
    root : int
        The run's root seed (non-negative).
    *path : str or int
        Names and indices placing the stream in the design.

    Returns
    -------
    numpy.random.SeedSequence
    """
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or root < 0:
        raise ValueError(f"seed: must be a non-negative integer; got {root!r}")
    return np.random.SeedSequence(int(root), spawn_key=spawn_key(path))
