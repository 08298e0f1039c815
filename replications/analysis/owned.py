"""Entries of a replicate's cache that belong to an object named by its id."""
from __future__ import annotations

from typing import Callable, Hashable

__all__ = ["owned"]


def owned(cache: dict, key: Hashable, owner: object, build: Callable[[], object]):
    """``build()``, kept in ``cache`` under ``key``, a key that names ``owner`` by its ``id``.

    The entry holds ``owner`` itself, so that id belongs to no other object while the entry
    is kept; an entry found under the key but held by another object (an id reused after
    its owner was freed) is rebuilt.
    """
    found = cache.get(key)
    if found is None or found[0] is not owner:
        found = cache[key] = (owner, build())
    return found[1]
