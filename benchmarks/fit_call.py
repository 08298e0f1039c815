"""One method's fit on one replicate, as the study runner records it: the output, or why
the fit failed (an exception, a malformed output), and the warnings it raised."""
from __future__ import annotations

from tacebench.engine import describe_warnings, record_warnings

from .methods import MethodOutput, output_problem

__all__ = ["call_fit"]


def _failure(exc: Exception, data) -> str:
    """A failed fit's reason; a missing column of the replicate is named with the ones it
    has (a study's own generator without ``os_event`` gave "KeyError: 'os_event'")."""
    key = exc.args[0] if isinstance(exc, KeyError) and exc.args else None
    # (a bare key: a KeyError with a sentence is already a message)
    if isinstance(key, str) and key.isidentifier() and hasattr(data, "keys") and key not in data:
        have = sorted(str(k) for k in data.keys() if not str(k).startswith("_"))
        return f"KeyError: the replicate has no column {key!r} (it has {have})"
    return f"{type(exc).__name__}: {exc}"


def call_fit(fit, data, config, rng) -> tuple[MethodOutput | None, str, str]:
    """``(output or None, error, warnings)`` of one method on one replicate: a fit that
    raises, or returns anything but a :class:`MethodOutput` of numbers, is a failed fit
    with its reason (data, never the end of a study)."""
    # (per thread: a worker thread's row never records another thread's warnings)
    with record_warnings() as caught:
        try:
            out = fit(data, config, rng)
        except Exception as exc:  # a failing estimator is data, never the end of a study
            return None, _failure(exc, data)[:500], ""
    if (problem := output_problem(out)) is not None:  # (so is a malformed output)
        return None, f"TypeError: {problem}"[:500], describe_warnings(caught)
    return out, "", describe_warnings(caught)
