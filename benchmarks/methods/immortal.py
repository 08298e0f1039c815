"""Time-varying systemic therapy: naive baseline exposure vs time-varying and landmark fits.

Seed 002 reports a lower hazard of death with longer "duration of sorafenib" (HR 0.9 per
month) from a Cox model that enters the duration as a baseline covariate. A patient must
survive to accumulate a duration, so that model credits the treatment with immortal time
(Suissa 2008, Am J Epidemiol 167:492; Levesque et al. 2010, BMJ 340:b5087). Variants:

* ``naive_duration``: months on therapy (observed, to death or censoring) as a baseline
  covariate — the published analysis;
* ``tv_duration``: cumulative months on therapy as a time-varying covariate, evaluated at
  every event time (counting-process rows split at the event times: exact, not binned);
* ``naive_ever``: ever started therapy (before the end of follow-up) as a baseline covariate;
* ``tv_ever``: therapy status switching from 0 to 1 at its start;
* ``landmark``: patients alive at ``landmark`` months, exposure as of the landmark
  (``exposure = "ever" | "duration"``), follow-up restarted there (Anderson et al. 1983).

``delayed_entry`` (months, time-varying variants only): a patient who started therapy enters
the risk sets only ``delayed_entry`` months after the start (left truncation, counting-process
entry). It is the analysis of a design that enrolled only patients treated for longer than
that (seed 002: "duration of sorafinib therapy for >1 month"), whose patients were all alive
then: entered at time 0, they sit in the early risk sets without being able to die there.

Columns used: ``systemic_start`` (inf when never) and ``systemic_duration`` from
:func:`simulate.generate_cohort`. Exposure stops at death or censoring.
"""
from __future__ import annotations

import numpy as np

from . import check_covariates, check_number, design
from ._common import ENDPOINTS, cox_of_treatment, outcome

OPTIONS = {
    "variant": ("naive_duration", ("naive_duration", "tv_duration", "naive_ever", "tv_ever",
                                   "landmark")),
    "population": ("treated_arm", ("treated_arm", "all")),
    "landmark": (3.0, check_number),
    "exposure": ("duration", ("duration", "ever")),
    "covariates": ([], check_covariates),
    "endpoint": ("os", ENDPOINTS),
    "ties": ("efron", ("efron", "breslow")),
    "delayed_entry": (0.0, check_number),
}


def option_problems(options, config) -> list[str]:
    """:func:`benchmarks.methods.method_problems`: a delayed entry is a non-negative number
    of months, and only the time-varying fits have risk sets to enter late."""
    m = config["delayed_entry"]
    if m < 0:
        return [f"delayed_entry must be >= 0 months; got {m!r}"]
    if m > 0 and config["variant"] not in ("tv_duration", "tv_ever"):
        return [f"delayed_entry applies to variant 'tv_duration' or 'tv_ever'; variant "
                f"{config['variant']!r} has no risk sets to enter late"]
    return []


def delay_entry(subj, lo, hi, ev, z, entry):
    """Counting-process rows with each subject entering at ``entry[subject]``: rows ending
    at or before it dropped, the row across it starting there (its exposure, that of its
    end, unchanged)."""
    at = entry[subj]
    keep = hi > at
    return subj[keep], np.maximum(lo[keep], at[keep]), hi[keep], ev[keep], z[keep]


def estimate_scale(config) -> tuple[str, None]:
    """What the estimate is (:func:`benchmarks.methods.estimate_scale`): the log HR per
    month on therapy (duration exposures) or of having started it (``ever``) -- neither
    the treatment arm's hazard ratio."""
    duration = (config["variant"] in ("naive_duration", "tv_duration")
                or (config["variant"] == "landmark" and config["exposure"] == "duration"))
    return ("log_hr_per_month" if duration else "log_hr_ever"), None


def split_at_event_times(time, event):
    """Counting-process rows ``(start, stop]`` of each subject split at every distinct event
    time before its own end; returns ``(subject, start, stop, event)``."""
    u = np.unique(time[event == 1])
    k = np.searchsorted(u, time, side="left")  # event times strictly before each end
    reps = k + 1
    subj = np.repeat(np.arange(time.size), reps)
    first = np.cumsum(reps) - reps
    pos = np.arange(subj.size) - np.repeat(first, reps)
    last = pos == k[subj]
    stop = np.where(last, time[subj], u[np.minimum(pos, max(u.size - 1, 0))] if u.size else 0.0)
    start = np.zeros_like(stop)
    start[1:] = stop[:-1]
    start[pos == 0] = 0.0
    ev = (last & (event[subj] == 1)).astype(np.int8)
    return subj, start, stop, ev


def split_exposure(time, event, start, stop):
    """Counting-process rows for cumulative exposure ``z(t) = clip(t - start, 0, stop - start)``.

    ``z`` changes only on ``(start, stop)``, so rows are split at the event times inside that
    window (where the partial likelihood evaluates ``z``) and at ``start`` and ``stop``;
    before and after the window one row each. Exact at every event time, with far fewer rows
    than splitting all follow-up. Returns ``(subject, entry, exit, event, z)``.

    Each subject's cut points are ``0``, ``start`` (if positive), the event times strictly
    inside ``(start, min(stop, time))``, ``min(stop, time)`` (if inside ``(start, time)``)
    and ``time``, the window's cuts only for a subject who started before ``time``; they
    are laid out for all subjects at once (a loop over subjects cost ~8 ms per cohort).
    """
    u = np.unique(time[event == 1])
    b = np.minimum(stop, time)
    # the window exists for a subject who started (finite start) before the end of follow-up
    window = np.isfinite(start) & (start < time)
    has_a = window & (start > 0)
    lo_u = np.searchsorted(u, start, side="right")      # first event time > start
    hi_u = np.searchsorted(u, b, side="left")           # first event time >= min(stop, time)
    n_inner = np.where(window, np.maximum(hi_u - lo_u, 0), 0)
    has_b = window & (b < time) & (b > start)
    n_cuts = 2 + has_a + n_inner + has_b
    first = np.cumsum(n_cuts) - n_cuts                  # each subject's first cut
    cuts = np.empty(int(n_cuts.sum()))
    cuts[first] = 0.0
    cuts[first + n_cuts - 1] = time
    cuts[(first + 1)[has_a]] = start[has_a]
    # inner event times: u[lo_u + k] at first + 1 + has_a + k, k < n_inner
    inner_subj = np.repeat(np.arange(time.size), n_inner)
    k = np.arange(inner_subj.size) - np.repeat(np.cumsum(n_inner) - n_inner, n_inner)
    cuts[first[inner_subj] + 1 + has_a[inner_subj] + k] = u.take(lo_u[inner_subj] + k)
    cuts[(first + 1 + has_a + n_inner)[has_b]] = b[has_b]
    # one row per pair of consecutive cuts of a subject; its last row carries the event
    n_rows = n_cuts - 1
    subj = np.repeat(np.arange(time.size), n_rows)
    lo_pos = np.arange(subj.size) + subj                # skip one cut per earlier subject
    lo, hi = cuts[lo_pos], cuts[lo_pos + 1]
    ev = np.zeros(subj.size, dtype=np.int8)
    ev[np.cumsum(n_rows) - 1] = event
    a = np.where(np.isfinite(start), start, 0.0)[subj]
    length = np.where(np.isfinite(start), np.maximum(np.minimum(stop, time) - start, 0.0), 0.0)
    z = np.clip(hi - a, 0.0, length[subj])
    return subj, lo, hi, ev, z


def fit(data, config, rng):
    time, event = outcome(data, config["endpoint"])
    sel = (np.asarray(data["treated"]) == 1) if config["population"] == "treated_arm" \
        else np.ones(time.size, dtype=bool)
    time, event = time[sel], event[sel]
    start = np.asarray(data["systemic_start"], dtype=np.float64)[sel]
    dur = np.asarray(data["systemic_duration"], dtype=np.float64)[sel]
    # exposure observed until death or censoring
    started = start < time
    on_until = np.where(started, np.minimum(start + np.where(np.isfinite(dur), dur, 0.0), time), 0.0)
    duration = np.where(started, on_until - np.where(started, start, 0.0), 0.0)
    X = design({k: v[sel] for k, v in data.items() if np.ndim(v) == 1 and len(v) == sel.size},
               config["covariates"]) if config["covariates"] else None
    variant, ties = config["variant"], config["ties"]
    extra = {"exposed": float(started.sum()), "mean_duration": float(duration[started].mean())
             if started.any() else 0.0}
    if variant == "naive_duration":
        return cox_of_treatment(time, event, duration, X, ties=ties, extra=extra)
    if variant == "naive_ever":
        return cox_of_treatment(time, event, started.astype(float), X, ties=ties, extra=extra)
    if variant == "landmark":
        L = float(config["landmark"])
        keep = time > L
        if config["exposure"] == "ever":
            z = (start <= L).astype(float)
        else:
            z = np.clip(L - np.where(started, start, L), 0.0, duration)
        extra["at_landmark"] = float(keep.sum())
        return cox_of_treatment(time[keep] - L, event[keep], z[keep],
                                None if X is None else X[keep], ties=ties, extra=extra)
    if variant == "tv_ever":
        n = time.size
        two = started & (start > 0)
        subj = np.r_[np.arange(n), np.flatnonzero(two)]
        lo = np.r_[np.zeros(n), start[two]]
        hi = np.r_[np.where(two, start, time), time[two]]
        ev = np.r_[np.where(two, 0, event), event[two]].astype(np.int8)
        z = np.r_[(started & ~two).astype(float), np.ones(two.sum())]
    else:  # tv_duration: cumulative exposure at each event time
        subj, lo, hi, ev, z = split_exposure(time, event, np.where(started, start, np.inf),
                                             np.where(started, on_until, np.inf))
    if config["delayed_entry"] > 0:
        entry = np.where(started, start + config["delayed_entry"], 0.0)
        subj, lo, hi, ev, z = delay_entry(subj, lo, hi, ev, z, entry)
    Xs = None if X is None else X[subj]
    return cox_of_treatment(hi, ev, z, Xs, entry=lo, cluster=subj, ties=ties, extra=extra)
