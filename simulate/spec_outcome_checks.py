"""Cross-entry checks of a cohort's outcome model: an entry given twice, PFS beyond OS.

An effect given twice would have both log-HRs added (HR 1.2 and 1.5 of one variable act
as 1.8), and a calibration quantity given twice with two values would be fitted as a
silent compromise between them; both are refused, naming the two entries. An effect
restricted to one arm (``arm``) and one of the same variable in another arm are two
effects; one restricted to an arm and one acting in every arm are refused too: in that
arm their log-HRs would add, while the HR a paper prints within an arm is the whole
effect there. Different HRs in the two arms are given as one entry per arm.

A PFS median or landmark rate above the same arm's OS one cannot be generated (PFS =
min(progression, death) <= OS for every patient). It is reported, not refused: the fit
keeps the closest PFS (the compile report's ``pfs.notes`` and the calibration checks say
so), since the two are printed by one paper with their own rounding and drawn
independently when calibration inputs are drawn from their sampling distributions.
"""
from __future__ import annotations

from typing import Any

__all__ = ["pfs_beyond_os_problems", "repeated_entry_problems"]


def _effect_what(e) -> str:
    return (repr(e.variable) + ("" if e.above is None else f", x >= {e.above:g}")
            + ("" if e.arm is None else f", arm {e.arm!r}"))


def _effect_repeats(key: str, effects) -> list[tuple[str, str]]:
    """An effect given twice in one arm (or in every arm), then one given both in every
    arm and in one arm (module docstring)."""
    p = _repeats(key, effects, lambda e: (e.variable, e.above, e.arm), _effect_what, _effect_value,
                 "would both apply (their log-HRs add)")
    everywhere = {}
    for j, e in enumerate(effects):
        if e.arm is None:
            everywhere.setdefault((e.variable, e.above), j)
    for j, e in enumerate(effects):
        i = everywhere.get((e.variable, e.above))
        if e.arm is not None and i is not None:
            p.append((f"{key}[{j}]", f"repeats {key}[{i}] ({_effect_what(effects[i])}, every arm) in arm "
                      f"{e.arm!r}: {_effect_value(effects[i])} and {_effect_value(e)} would both apply "
                      "there (their log-HRs add); give the effect in every arm, or one entry per arm"))
    return p


def _effect_value(e) -> str:
    return f"hr = {list(e.hr)}" if isinstance(e.hr, tuple) else f"hr = {e.hr:g}"


def _target_what(t) -> str:
    if t.kind == "hr":
        return "the crude HR"
    return f"arm {t.arm!r} median" if t.kind == "median" else f"arm {t.arm!r} {t.time:g}-month rate"


def _target_key(t) -> tuple:
    # a crude HR of A vs B is the one of B vs A: one quantity whatever arm names it
    return ("hr",) if t.kind == "hr" else (t.kind, t.arm, t.time)


def _repeats(key: str, entries, identity, what, value, why: str) -> list[tuple[str, str]]:
    """A problem for each entry whose ``identity`` an earlier one has."""
    p, first = [], {}
    for j, e in enumerate(entries):
        i = first.setdefault(identity(e), j)
        if i != j:
            p.append((f"{key}[{j}]", f"repeats {key}[{i}] ({what(e)}): {value(entries[i])} and "
                      f"{value(e)} {why}; give one entry"))
    return p


def repeated_entry_problems(c: Any) -> list[tuple[str, str]]:
    """Effects and calibration targets of an endpoint given twice, as ``(key, message)``.

    An effect's identity is its variable, ``above`` (a threshold effect and a linear
    one of the same variable are two effects) and ``arm`` (see the module docstring); a
    target's its kind, arm and time (any two crude HRs are one). ``c`` is the
    :class:`~simulate.study.CohortSpec` being validated.
    """
    p: list[tuple[str, str]] = []
    fit = "would be fitted as a compromise"
    for name in ("os", "pfs"):
        ep = getattr(c, name)
        if ep is None:
            continue
        p += _effect_repeats(f"outcomes.{name}.effects", ep.effects)
        p += _repeats(f"outcomes.{name}.calibrate", ep.calibrate, _target_key, _target_what,
                      lambda t: f"value = {t.value:g}", fit)
    if c.ttp is not None:
        p += _repeats("outcomes.ttp.calibrate", c.ttp.calibrate, _target_key, _target_what,
                      lambda t: f"value = {t.value:g}", fit)
    return p


def pfs_beyond_os_problems(c: Any) -> list[tuple[str, str]]:
    """Each PFS median or rate above the same arm's OS median or rate at the same time,
    as ``(key, message)``; ``c`` is a :class:`~simulate.study.CohortSpec`."""
    if c.os is None or c.pfs is None:
        return []
    os_at = {(t.kind, t.arm, t.time): (j, t.value) for j, t in enumerate(c.os.calibrate) if t.kind != "hr"}
    p = []
    for j, t in enumerate(c.pfs.calibrate):
        i, v = os_at.get((t.kind, t.arm, t.time), (None, None))
        if i is not None and t.value > v:
            p.append((f"outcomes.pfs.calibrate[{j}].value",
                      f"{_target_what(t)} {t.value:g} exceeds OS's {v:g} (outcomes.os.calibrate[{i}]): PFS = "
                      "min(progression, death) <= OS for every patient, so the fit keeps the closest PFS"))
    return p
