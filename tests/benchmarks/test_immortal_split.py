"""split_exposure's counting-process rows: for every subject, the cut points its docstring
names (checked subject by subject here), rows tiling (0, time], the event on the last row."""
import numpy as np
from hypothesis import given, settings, strategies as st

from tacebench.benchmarks.methods.immortal import split_exposure


def _cuts(u, a, b, t):
    """One subject's cut points, as split_exposure's docstring states them."""
    cuts = [0.0]
    if np.isfinite(a) and a < t:
        if a > 0:
            cuts.append(a)
        cuts.extend(u[(u > a) & (u < b)].tolist())
        if a < b < t:
            cuts.append(b)
    return cuts + [t]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 30), st.integers(0, 2))
def test_rows_are_the_documented_cuts(seed, n, decimals):
    rng = np.random.default_rng(seed)
    time = np.round(rng.exponential(10, n), decimals)          # ties, and time 0 possible
    event = (rng.random(n) < 0.7).astype(np.int8)
    start = np.where(rng.random(n) < 0.7, np.round(rng.exponential(3, n), 1), np.inf)
    start[rng.random(n) < 0.15] = 0.0
    stop = np.where(np.isfinite(start), start + np.round(rng.exponential(5, n), 1), np.inf)
    subj, lo, hi, ev, z = split_exposure(time, event, start, stop)
    u = np.unique(time[event == 1])
    assert np.all(np.diff(subj) >= 0) and ev.dtype == np.int8
    for i in range(n):
        r = subj == i
        cuts = _cuts(u, start[i], min(stop[i], time[i]), time[i])
        assert lo[r].tolist() == cuts[:-1] and hi[r].tolist() == cuts[1:]
        assert ev[r].tolist() == [0] * (r.sum() - 1) + [event[i]]
        length = max(min(stop[i], time[i]) - start[i], 0.0) if np.isfinite(start[i]) else 0.0
        a = start[i] if np.isfinite(start[i]) else 0.0
        np.testing.assert_array_equal(z[r], np.clip(hi[r] - a, 0.0, length))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 30), st.sampled_from([0.5, 1.0, 3.0]))
def test_a_delayed_entry_tiles_each_subjects_time_after_it(seed, n, months):
    """delay_entry: a subject's rows tile (entry, time] when time > entry (none otherwise),
    each row keeping the exposure of its end and the event staying on the last row."""
    from tacebench.benchmarks.methods.immortal import delay_entry

    rng = np.random.default_rng(seed)
    time = np.round(rng.exponential(10, n), 1)
    event = (rng.random(n) < 0.7).astype(np.int8)
    start = np.where(rng.random(n) < 0.8, np.round(rng.exponential(2, n), 1), np.inf)
    stop = np.where(np.isfinite(start), start + np.round(rng.exponential(5, n), 1), np.inf)
    rows = split_exposure(time, event, start, stop)
    entry = np.where(np.isfinite(start), start + months, 0.0)
    subj, lo, hi, ev, z = delay_entry(*rows, entry)
    for i in range(n):
        r = subj == i
        if time[i] <= entry[i]:
            assert not r.any()
            continue
        assert lo[r][0] == entry[i] and hi[r][-1] == time[i]
        np.testing.assert_array_equal(lo[r][1:], hi[r][:-1])
        assert ev[r].tolist() == [0] * (r.sum() - 1) + [event[i]]
        full = rows[0] == i
        np.testing.assert_array_equal(z[r], rows[4][full][rows[2][full] > entry[i]])


def test_a_delayed_entry_is_for_the_time_varying_variants_only():
    from tacebench.benchmarks.methods import method_problems, validate_method

    ok = validate_method("immortal", {"variant": "tv_duration", "delayed_entry": 1.0})
    assert method_problems("immortal", {}, ok) == []
    naive = validate_method("immortal", {"variant": "naive_duration", "delayed_entry": 1.0})
    (problem,) = method_problems("immortal", {}, naive)
    assert "tv_duration" in problem and "'naive_duration'" in problem
    negative = validate_method("immortal", {"variant": "tv_ever", "delayed_entry": -1.0})
    assert method_problems("immortal", {}, negative) == ["delayed_entry must be >= 0 months; got -1.0"]
