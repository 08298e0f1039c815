"""A DataFrame's columns as ``(dtype, values)`` read from its block manager, without a
Series per column.

``design_matrix`` and ``treatment_indicator`` run at every public call, and on a frame of
a few hundred rows pandas' own column access (``frame[c]``, ``DataFrame.items``, then
``.dtype`` and ``.values`` on each Series) cost more than building the design itself.
pandas keeps a frame's columns in blocks: one 2-D numpy array per numpy dtype (a column
is a row of it) and one extension array (e.g. a ``Categorical``) per extension column;
``blknos``/``blklocs`` say where each column lives. Reading them directly gives the very
arrays the Series would wrap (the same memory, so the same doubles).

These are pandas internals, not its public API: :func:`frame_columns` checks the shape of
what it reads and returns ``None`` (the caller then uses the public path) when any of it
is missing or unexpected, as on a pandas that lays frames out differently.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["frame_columns", "frame_layout", "series_layout"]


def frame_columns(frame: pd.DataFrame, labels) -> dict | None:
    """``{label: (dtype, values)}`` of the columns ``labels`` of ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
    labels : sequence of column labels

    Returns
    -------
    dict or None
        ``values`` is the 1-D numpy array of a numpy-dtype column (a view of its block)
        or the extension array itself (``Categorical``...), ``dtype`` its dtype. ``None``
        when a label is missing, the frame's labels are not unique or its blocks are not
        laid out as expected (the caller then reads the columns through pandas).
    """
    layout = frame_layout(frame, labels)
    if layout is None:
        return None
    blocks, where = layout
    out = {}
    for label, (b, row) in where.items():
        vals = blocks[b]
        out[label] = (vals.dtype, vals[row] if isinstance(vals, np.ndarray) else vals)
    return out


def frame_layout(frame: pd.DataFrame, labels) -> tuple[dict, dict] | None:
    """Where the columns ``labels`` of ``frame`` live: ``(blocks, where)``.

    Parameters
    ----------
    frame, labels
        As :func:`frame_columns`.

    Returns
    -------
    tuple or None
        ``where[label] = (b, row)``; ``blocks[b]`` is a 2-D numpy array ``(k, n)`` whose
        row ``row`` is the column, or an extension array (``row`` then unused), checked
        as laid out as expected. Columns of one numpy block can then be copied by one
        ``take``. ``None`` as for :func:`frame_columns`.
    """
    try:
        mgr = frame._mgr
        blknos, blklocs, blocks = mgr.blknos, mgr.blklocs, mgr.blocks
        columns = frame.columns
        if not columns.is_unique or len(blknos) != len(columns):
            return None
        if len(labels) == 1:  # one label: pandas' own lookup (no dict of every label)
            loc = columns.get_loc(labels[0]) if labels[0] in columns else None
            index = {} if not isinstance(loc, int) else {labels[0]: loc}
        else:
            # (from the labels as a list: iterating the Index itself costs twice as much)
            index = dict(zip(columns.tolist(), range(len(columns))))
        n = len(frame)
        numbers, places = blknos.tolist(), blklocs.tolist()  # Python ints index faster
        arrays = {}  # block number -> its values, checked once
        where = {}
        for label in labels:
            i = index.get(label)
            if i is None:
                return None
            b = numbers[i]
            if b not in arrays:
                blk = blocks[b]
                vals = blk.values
                if isinstance(vals, np.ndarray):
                    if vals.ndim != 2 or vals.shape[1] != n or vals.dtype != blk.dtype:
                        return None
                elif vals.ndim != 1 or len(vals) != n:
                    return None
                arrays[b] = vals
            where[label] = (b, places[i])
        return arrays, where
    except (AttributeError, TypeError, IndexError, KeyError):
        return None


def series_layout(frame: pd.DataFrame, labels) -> tuple[dict, dict] | None:
    """:func:`frame_layout` through pandas (``frame[label]``), for a frame whose blocks
    it cannot read: each column a block of its own (a numpy column as a one-row view);
    ``None`` for a duplicated label."""
    import pandas as pd
    blocks, where = {}, {}
    for b, label in enumerate(labels):
        s = frame[label]
        if not isinstance(s, pd.Series):  # duplicated column label
            return None
        v = s.values
        blocks[b] = v[None, :] if isinstance(v, np.ndarray) else v
        where[label] = (b, 0)
    return blocks, where
