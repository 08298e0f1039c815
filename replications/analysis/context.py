"""The analysed sample of one replicate that the estimates read (:class:`Context`): its
rows, weights, landmark and matched sets, with its caches."""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from . import kernels
from .adjustments import CompiledAdjustment
from .owned import owned
from .terms import in_codes

__all__ = ["Context", "rows_cache"]


class Context:
    """The analysed sample of one replicate, with per-replicate caches.

    ``cache`` holds what the sample's estimates share (its fits); ``by_rows`` what depends
    on the analysed rows alone (times, events, treatment, designs), shared through the
    replicate's cache ``shared`` by every sample on the same rows and landmark: the
    leave-one-covariate-out reruns of a weighting analyse the same rows, each with its
    own weights, and so share them.
    """

    def __init__(self, cols: Mapping, adjusted, subset, adj: CompiledAdjustment,
                 responders: Mapping[str, tuple[str, np.ndarray]], ties: str = "efron",
                 smd_sd: str = "unweighted", requests: tuple = (), shared: dict | None = None):
        self.cols, self.adj, self.ties, self.smd_sd = cols, adj, ties, smd_sd
        self.requests = requests    # what the analysis asks of this sample (for batching)
        self.rows = adjusted.rows
        self.w = adjusted.weights
        self.pairs = adjusted.cluster   # matched-set id of each row (matched samples)
        self.landmark = subset.landmark
        self.replicate_cache = shared
        self.by_rows = rows_cache(shared, self.rows, self.landmark)
        if "z" not in self.by_rows:
            self.by_rows["z"] = np.asarray(cols["treated"])[self.rows].astype(float)
            self.by_rows["arm"] = np.asarray(cols["arm"])[self.rows]
        self.z, self.arm = self.by_rows["z"], self.by_rows["arm"]
        self.responders = responders
        self.cache: dict = {}

    def weights(self, mask=None):
        if self.w is None:
            return None
        return self.w if mask is None else self.w[mask]

    def survival(self, ep: str):
        key = ("surv", ep)
        if key not in self.by_rows:
            t = np.asarray(self.cols[f"{ep}_time"], dtype=float)[self.rows]
            d = np.asarray(self.cols[f"{ep}_event"], dtype=float)[self.rows]
            keep = np.ones(len(t), dtype=bool)
            if self.landmark is not None:
                t = t - self.landmark[1]
                keep = t > 0
            self.by_rows[key] = (t, d, keep)
        return self.by_rows[key]

    def km(self, ep: str, arm: int):
        key = ("km", ep, arm)
        if key not in self.cache:
            t, d, keep = self.survival(ep)
            m = keep & (self.arm == arm)
            if not m.any():
                raise kernels.FitFailure("empty arm")
            self.cache[key] = kernels.km(t[m], d[m], self.weights(m))
        return self.cache[key]

    def response(self, endpoint: str):
        """Responder indicator of a response endpoint (on the response column it reads)
        and who was assessed (code >= 0) in the analysed rows (computed once per sample:
        its rates, counts and odds ratios all read it)."""
        key = self.response_key(endpoint)
        if key not in self.by_rows:
            column, codes = self.responders[endpoint]
            r = np.asarray(self.cols[column])[self.rows]
            self.by_rows[key] = (in_codes(r, codes).astype(float), r >= 0)
        return self.by_rows[key]

    def response_key(self, endpoint: str) -> tuple:
        """What a response endpoint reads (its column and responder codes), as a key of
        :attr:`by_rows` (analyses may define an endpoint's responders differently)."""
        column, codes = self.responders[endpoint]
        return ("response", column, codes.dtype.str, codes.tobytes())

    def cohort_matrix(self, bound) -> np.ndarray | None:
        """The design of the terms ``bound`` on every row of the cohort (read only), built
        once per replicate and kept in its cache; None without a replicate cache."""
        if self.replicate_cache is None:
            return None
        return owned(self.replicate_cache, ("cohort-term-matrix", id(bound)), bound,
                     lambda: bound.matrix(self.cols))

    def term_matrix(self, bound) -> np.ndarray:
        """The design of the terms ``bound`` on the analysed rows (read only): the rows of
        :meth:`cohort_matrix` (every entry is a function of its row's value alone, so
        these are :meth:`BoundTerms.matrix`'s numbers on the rows), gathered once for the
        samples on the same rows."""
        if self.replicate_cache is None:
            return bound.matrix(self.cols, self.rows)
        return self.shared(("term-matrix", id(bound)), bound,
                           lambda: self.cohort_matrix(bound)[self.rows])

    def arm_rows(self, arm: int) -> np.ndarray:
        """``arm == arm`` on the analysed rows, shared by the samples on the same rows."""
        key = ("arm-rows", arm)
        if key not in self.by_rows:
            self.by_rows[key] = self.arm == arm
        return self.by_rows[key]

    def shared(self, key: tuple, owner, build: Callable):
        """``build()`` (e.g. a design of the terms ``owner`` on the analysed rows), made
        once for the samples on the same rows (:attr:`by_rows`). The entry holds
        ``owner``, whose id ``key`` names, so that id is no other object's while kept."""
        return owned(self.by_rows, key, owner, build)


def rows_cache(shared: dict | None, rows: np.ndarray, landmark) -> dict:
    """The entry of the replicate's cache ``shared`` (one cohort's) for the samples on
    ``rows`` with ``landmark``: a new dict when there is no ``shared``."""
    if shared is None:
        return {}
    return shared.setdefault(("rows", landmark, rows.dtype.str, rows.tobytes()), {})
