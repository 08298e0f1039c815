"""Value equality for records that hold arrays.

The ``__eq__`` a dataclass generates compares two field tuples, and a numpy array among the
fields makes that comparison elementwise, with an ambiguous truth value: two fits of the
same data (or two cohorts drawn with the same seed) raised ``ValueError`` when compared,
unless they shared their arrays. A record
class that holds arrays derives from :class:`ArrayRecord` and leaves ``__eq__`` to it::

    @dataclass(frozen=True, eq=False)
    class CoxResult(ArrayRecord):
        ...

Specification
-------------
Two records are equal when they are of the same class and every field that takes part in
comparison (``field(compare=True)``, the default) holds equal values (:func:`same_value`):

- arrays are equal when both are arrays of the same shape and the same kind of dtype
  (``dtype.kind``: a boolean mask never equals a 0/1 float array, nor an integer count a
  float one; float32 and float64 arrays of the same values are equal) whose elements are
  equal, NaN (and NaT) equal to NaN in the same place: a result with a NaN standard error
  at the same coefficient is the same result;
- mappings are equal when they have the same keys and equal values key by key, tuples and
  lists when they are both tuples or both lists of the same length with equal elements in
  order (both recursively);
- pandas objects (anything with an ``equals`` method) are equal when they are of the same
  type and ``a.equals(b)`` (labels, dtypes and values, NaN equal to NaN);
- floats (Python or numpy) are equal when ``a == b`` or both are NaN;
- anything else (strings, integers, nested records) is equal when ``bool(a == b)``.

Compared with an object of another class, a record returns ``NotImplemented``: ``==`` is
then ``False`` and raises nothing. Records are unhashable (``__hash__`` is ``None``):
their arrays are mutable.

This module is a leaf of its own: it imports nothing of tacebench, and every package
(simulate, estimators, the engine, replications, benchmarks) imports it, so the records of
all of them share one definition of equality while simulate, estimators and the engine
still import nothing from each other (docs/design.md).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

import numpy as np

__all__ = ["ArrayRecord", "same_value"]

#: dtype kinds where an element can be NaN or NaT
_NAN_KINDS = "fcmM"


class ArrayRecord:
    """Base of a dataclass (``eq=False``) that holds arrays: value equality as the module
    specifies, and no hash."""

    __slots__ = ()
    __hash__ = None

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(same_value(getattr(self, f.name), getattr(other, f.name))
                   for f in fields(self) if f.compare)


def same_value(a: object, b: object) -> bool:
    """Whether two field values are equal under the module's specification."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and _same_array(a, b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return (isinstance(a, tuple) == isinstance(b, tuple) and len(a) == len(b)
                and all(map(same_value, a, b)))
    if hasattr(a, "equals") and hasattr(b, "equals"):   # pandas: Series, DataFrame, Index
        return type(a) is type(b) and bool(a.equals(b))
    if isinstance(a, (float, np.floating)) and isinstance(b, (float, np.floating)):
        return bool(a == b) or (a != a and b != b)
    return bool(a == b)


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
        return False
    if a.dtype.kind == "O":
        return all(map(same_value, a.flat, b.flat))
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in _NAN_KINDS))
