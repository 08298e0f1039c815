"""Explicit caches: a bounded in-memory LRU and the compiled-plan cache with an opt-in disk layer.

Nothing here is hidden module state. A cache is an object; functions that use one take it
as an argument (``compile_plan(spec, cache=...)``, ``true_estimands(..., cache=...)``), and
``cache=None`` turns caching off for that call. Each has a documented, bounded process-wide
default that callers may pass, inspect, clear or replace:

* :func:`default_plan_cache` / :func:`set_default_plan_cache`: compiled plans
  (:class:`PlanCache`, at most :data:`PlanCache.DEFAULT_MAX_SIZE` plans in memory; disk only
  if ``TACEBENCH_CACHE_DIR`` is set when :mod:`tacebench.simulate` is imported);
* ``tacebench.simulate.truth.TRUTH_CACHE``: true estimands (:class:`LRUCache`).

Plans are keyed by the cohort specification's content hash **and** :data:`CODE_FINGERPRINT`,
a SHA-256 over this package's own ``.py`` files (computed once, at import): a changed
generating model never reuses a stale plan, in memory or on disk.

The disk layer is opt-in: off unless a folder is given (``PlanCache(disk_dir=...)``, or
``TACEBENCH_CACHE_DIR`` for the default cache, whose plans go to ``$TACEBENCH_CACHE_DIR/simulate``);
there is no home-directory default. A cache file that cannot be read (truncated, corrupt,
unreadable, or holding something other than the plan of its key) raises a
:class:`CacheFileWarning` naming the file, and the plan is recomputed and the file rewritten;
a file that cannot be written raises the same warning. Errors are never silently dropped.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import threading
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Hashable

#: Environment variable naming the root folder of the opt-in disk caches.
CACHE_DIR_ENV = "TACEBENCH_CACHE_DIR"


class CacheFileWarning(UserWarning):
    """A cache file could not be read or written; the value was recomputed (or not stored).

    ``path`` is the file concerned.
    """

    def __init__(self, message: str, path: Path | str):
        super().__init__(message)
        self.path = Path(path)


def source_fingerprint(folder: Path | str) -> str:
    """SHA-256 (hex, 16 characters) over the names and bytes of the sorted ``*.py`` files
    directly in ``folder``."""
    h = hashlib.sha256()
    for f in sorted(Path(folder).glob("*.py")):
        h.update(f.name.encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


#: Fingerprint of the simulate package's source, computed once when it is imported.
CODE_FINGERPRINT = source_fingerprint(Path(__file__).resolve().parent)


class LRUCache:
    """A bounded in-memory least-recently-used map with hit/miss counters.

    ``get_or_compute(key, compute)`` returns the stored value or stores ``compute()``; once
    more than ``max_size`` entries are held, the least recently used is dropped.

    Safe to share between threads (studies and assumption worlds are set up on threads
    beside each other): every look-up, insertion and eviction holds the cache's lock, so a
    value found is the value returned even when another thread evicts it at that moment.
    ``compute`` runs outside the lock; two threads missing the same key both compute it
    (the same deterministic value) and the later one stores it.
    """

    def __init__(self, max_size: int = 128):
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise ValueError(f"max_size must be an integer >= 1; got {max_size!r}")
        self.max_size = max_size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_lock"]                  # a lock does not pickle; a copy gets its own
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data

    def find(self, key: Hashable) -> tuple[bool, Any]:
        """``(True, value)`` if ``key`` is held (counted as a hit), else ``(False, None)``
        (not counted: the caller decides what a miss is)."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return True, self._data[key]
        return False, None

    def get(self, key: Hashable, default: Any = None) -> Any:
        found, value = self.find(key)
        if found:
            return value
        with self._lock:
            self.misses += 1
        return default

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_size:
                self._data.popitem(last=False)

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        found, value = self.find(key)
        if found:
            return value
        with self._lock:
            self.misses += 1
        value = compute()
        self.put(key, value)
        return value

    def clear(self) -> None:
        """Drop every entry (the counters are kept)."""
        with self._lock:
            self._data.clear()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(max_size={self.max_size}, size={len(self)}, "
                f"hits={self.hits}, misses={self.misses})")


def env_cache_dir(sub: str) -> Path | None:
    """``$TACEBENCH_CACHE_DIR/<sub>`` if that variable is set (non-empty), else ``None``."""
    root = os.environ.get(CACHE_DIR_ENV, "")
    return Path(root) / sub if root else None


def read_cache_file(path: Path, load: Callable[[Any], Any], what: str = "cache") -> Any | None:
    """``load(open file)`` of ``path``, or ``None`` if the file does not exist. A file that
    exists but cannot be read or loaded gives a :class:`CacheFileWarning` naming it and
    ``None`` (the caller recomputes the value)."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return None
    except OSError as exc:
        _warn(f"{what} file {path} cannot be opened ({type(exc).__name__}: {exc}); recomputing", path)
        return None
    try:
        with fh:
            return load(fh)
    except Exception as exc:  # noqa: BLE001 - unpickling garbage raises almost anything; reported
        _warn(f"{what} file {path} is corrupt or unreadable ({type(exc).__name__}: {exc}); "
              f"recomputing", path)
        return None


def write_cache_file(path: Path, dump: Callable[[Any], None], what: str = "cache") -> bool:
    """Write ``path`` atomically through ``dump(open binary file)``; a failure gives a
    :class:`CacheFileWarning` naming the file and ``False``."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            dump(fh)
        os.replace(tmp, path)
        return True
    except OSError as exc:
        _warn(f"{what} file {path} cannot be written ({type(exc).__name__}: {exc}); not cached", path)
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # the warning above already reports the failing folder
            pass
        return False


def _warn(message: str, path: Path) -> None:
    warnings.warn(CacheFileWarning(message, path), stacklevel=4)


class PlanCache:
    """Compiled simulation plans: a bounded in-memory LRU and an optional disk layer.

    Parameters
    ----------
    max_size : int
        Plans held in memory (default :data:`DEFAULT_MAX_SIZE` = 64; a plan is ~2 MB).
    disk_dir : path, optional
        Folder of pickled plans (``<spec hash>-<code fingerprint>.pkl``). ``None`` (the
        default): memory only. Only load a folder you trust: the files are pickles.
    fingerprint : str, optional
        Code fingerprint in every key; default :data:`CODE_FINGERPRINT`.

    ``hits`` (memory), ``disk_hits`` and ``misses`` (compiled) count lookups.

    ``parts`` (an :class:`LRUCache` of at most :data:`PARTS_MAX_SIZE` entries, memory only)
    holds the sub-steps of a compilation that cohorts differing elsewhere share (a
    variable's fitted marginals), keyed by the sub-step and all of its inputs: the
    scenarios of a study, or the assumption worlds of a replication, fit them once.
    """

    #: Default bound of the in-memory layer.
    DEFAULT_MAX_SIZE = 64
    #: Bound of :attr:`parts` (a variable's marginals are a few kB).
    PARTS_MAX_SIZE = 1024

    def __init__(self, max_size: int = DEFAULT_MAX_SIZE, *, disk_dir: Path | str | None = None,
                 fingerprint: str | None = None):
        self._memory = LRUCache(max_size)
        self.parts = LRUCache(self.PARTS_MAX_SIZE)
        self.disk_dir = Path(disk_dir) if disk_dir is not None else None
        self.fingerprint = CODE_FINGERPRINT if fingerprint is None else str(fingerprint)
        self.disk_hits = 0
        self.misses = 0

    @classmethod
    def from_env(cls, max_size: int = DEFAULT_MAX_SIZE) -> "PlanCache":
        """A cache whose disk layer is ``$TACEBENCH_CACHE_DIR/simulate`` if that variable is
        set, else memory only."""
        return cls(max_size, disk_dir=env_cache_dir("simulate"))

    @property
    def max_size(self) -> int:
        return self._memory.max_size

    @property
    def hits(self) -> int:
        return self._memory.hits

    def __len__(self) -> int:
        return len(self._memory)

    def key(self, spec_hash: str) -> str:
        return f"{spec_hash}-{self.fingerprint}"

    def path(self, spec_hash: str) -> Path | None:
        """The disk file of a spec hash (``None`` without a disk layer)."""
        return None if self.disk_dir is None else self.disk_dir / f"{self.key(spec_hash)}.pkl"

    def get_or_compile(self, spec_hash: str, compile: Callable[[], Any]) -> Any:
        """The plan of ``spec_hash``: from memory, else from disk, else ``compile()``."""
        key = self.key(spec_hash)
        found, plan = self._memory.find(key)
        if found:
            return plan
        path = self.path(spec_hash)
        if path is not None:
            plan = read_cache_file(path, pickle.load, "plan cache")
            if plan is not None:
                if getattr(plan, "spec_hash", None) == spec_hash:
                    self.disk_hits += 1
                    self._memory.put(key, plan)
                    return plan
                _warn(f"plan cache file {path} does not hold the plan of spec hash {spec_hash} "
                      f"(found {type(plan).__name__}); recomputing", path)
        self.misses += 1
        plan = compile()
        self._memory.put(key, plan)
        if path is not None:
            write_cache_file(path, lambda fh: pickle.dump(plan, fh, protocol=pickle.HIGHEST_PROTOCOL),
                             "plan cache")
        return plan

    def clear(self) -> None:
        """Empty the memory layer and :attr:`parts` (disk files are left alone)."""
        self._memory.clear()
        self.parts.clear()

    def __repr__(self) -> str:
        return (f"PlanCache(max_size={self.max_size}, size={len(self)}, disk_dir={self.disk_dir}, "
                f"hits={self.hits}, disk_hits={self.disk_hits}, misses={self.misses})")


_default_plan_cache = PlanCache.from_env()


def default_plan_cache() -> PlanCache:
    """The process-wide plan cache that ``compile_plan`` uses when no ``cache`` is passed."""
    return _default_plan_cache


def set_default_plan_cache(cache: PlanCache) -> PlanCache:
    """Replace the process-wide plan cache; returns the previous one (to restore it)."""
    global _default_plan_cache
    if not isinstance(cache, PlanCache):
        raise TypeError(f"cache must be a PlanCache; got {type(cache).__name__}")
    old, _default_plan_cache = _default_plan_cache, cache
    return old


__all__ = ["CACHE_DIR_ENV", "CODE_FINGERPRINT", "CacheFileWarning", "LRUCache", "PlanCache",
           "default_plan_cache", "env_cache_dir", "read_cache_file", "set_default_plan_cache",
           "source_fingerprint", "write_cache_file"]
