"""Validation of ``targets.toml``: every problem collected, then raised as one error."""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from tacebench.replications.analysis.problems import (MISSING, Problems, StudyError,
                                                      raw_items, toml_problem)
from tacebench.simulate.spec_base import SpecError

from .baseline import expand_baseline as _expand_baseline
from .calibrated import expand_calibration
from .claims import parse_claims
from .declarations import (check_mislabel_endpoints, parse_expected_failures,
                           parse_mislabel)
from .fields import text_value as _text, unknown_keys as _unknown
from .misprints import corrected_texts, parse_misprint
from .model import (CI_ONLY_QUANTITIES, INTERVALS, PROPORTION_QUANTITIES, QUANTITIES,
                    RATIO_QUANTITIES, ROLES, SIGNED_QUANTITIES, TARGET_KEYS, StudyTargets, Target,
                    find_printed)
from .results import expand_results
from .shifts import parse_shift
from .table import study_table_targets

__all__ = ["TableUnreadable", "load_targets", "parse_targets"]


class TableUnreadable(ValueError):
    """The targets of a study's Table 1 cannot be derived: ``cohort.toml``'s declaration
    or the table file has problems (which the cohort loader reports one by one)."""


_STUDY_KEYS = frozenset({"id", "seed_file", "title"})
_TOP_KEYS = frozenset({"study", "targets", "baseline", "results", "calibration", "shifts",
                       "expected_failures", "claims"})
_WHERE = re.compile(r"^(abstract|graphical abstract|text|discussion|conclusion|"
                    r"(table|figure) S?\d+[A-Za-z]?)$", re.IGNORECASE)
_P_TEXT = re.compile(r"^\s*([<>≤≥]=?)\s*(\d*\.?\d+)\s*$")
#: Fields whose printed form must be found in the target's own quote.
_PRINTED_FIELDS = ("value", "ci_lo", "ci_hi", "se", "sd", "p", "count")


#: How a median not reached is printed.
NOT_REACHED_TEXT = re.compile(r"\bNR\b|not\s+reached|\bNE\b|not\s+estimable", re.IGNORECASE)
_NOT_REACHED_VALUES = {"nr", "not reached", "ne", "not estimable"}


def canonical_where(where: str) -> str:
    """One spelling of a place in the paper: its words in lower case, a supplement's
    ``S`` and a panel letter in upper case (``"Table s1a"`` -> ``"table S1A"``)."""
    head, _, tail = where.rpartition(" ")
    if head.lower() in ("table", "figure"):
        return f"{head.lower()} {tail.upper()}"
    return where.lower()


def is_not_reached(value: Any) -> bool:
    """True for a TOML value that writes a median not reached (``"NR"``, ``"not reached"``,
    ``"NE"``, ``"not estimable"``)."""
    return isinstance(value, str) and value.strip().lower() in _NOT_REACHED_VALUES


def _num(raw: Mapping, key: str, probs: Problems, path: str, *, integer=False, positive=False,
         nonneg=False, unit=False) -> float | None:
    if key not in raw:
        return None
    v = raw[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        probs.add(f"{path}.{key}", v, "must be a finite number", "malformed-number")
        return None
    if integer and float(v) != int(v):
        probs.add(f"{path}.{key}", v, "must be a whole number", "malformed-number")
    if positive and v <= 0:
        probs.add(f"{path}.{key}", v, "must be positive", "malformed-number")
    elif nonneg and v < 0:      # (a positive-only value already said so)
        probs.add(f"{path}.{key}", v, "must not be negative", "malformed-number")
    if unit and not 0 <= v <= 1:
        probs.add(f"{path}.{key}", v, "must lie in [0, 1]", "malformed-number")
    return float(v)


def _parse_target(raw: Any, path: str, probs: Problems) -> Target | None:
    if not isinstance(raw, Mapping):
        probs.add(path, raw, "must be a table", "malformed-value")
        return None
    n0 = len(probs)
    _unknown(raw, TARGET_KEYS, probs, path)
    tid = _text(raw, "id", probs, path, required=True, snake=True)
    quantity = _text(raw, "quantity", probs, path, required=True, choices=QUANTITIES)
    kw: dict[str, Any] = dict(
        analysis=_text(raw, "analysis", probs, path, required=True, snake=True),
        role=_text(raw, "role", probs, path, required=True, choices=ROLES),
        where=_text(raw, "where", probs, path, required=True),
        source=_text(raw, "source", probs, path, required=True),
        endpoint=_text(raw, "endpoint", probs, path, snake=True),
        arm=_text(raw, "arm", probs, path), term=_text(raw, "term", probs, path),
        level=_text(raw, "level", probs, path), test=_text(raw, "test", probs, path),
        same_as=_text(raw, "same_as", probs, path, snake=True),
        partition=_text(raw, "partition", probs, path, snake=True),
        unweighted=_text(raw, "unweighted", probs, path, snake=True),
        note=_text(raw, "note", probs, path), p_text=_text(raw, "p_text", probs, path),
        not_judged=_text(raw, "not_judged", probs, path),
        interval=_text(raw, "interval", probs, path, choices=INTERVALS) or "ci",
        time=_num(raw, "time", probs, path, positive=True),
        se=_num(raw, "se", probs, path, nonneg=True),
        sd=_num(raw, "sd", probs, path, nonneg=True),
        p=_num(raw, "p", probs, path, unit=True),
        count=_num(raw, "count", probs, path, nonneg=True),
        denominator=_num(raw, "denominator", probs, path, positive=True),
        ci_level=_num(raw, "ci_level", probs, path, unit=True) or 0.95,
        ci=None,
    )
    kw["mislabel"] = mislabel = parse_mislabel(raw, kw["endpoint"], quantity, path, probs)
    if mislabel is not None:            # judged as what the number is, not as printed
        if mislabel.key == "quantity":
            quantity = mislabel.actual
        else:
            kw["endpoint"] = mislabel.actual
    for flag in ("weighted", "required"):
        if flag in raw and not isinstance(raw[flag], bool):
            probs.add(f"{path}.{flag}", raw[flag], "must be true or false", "malformed-value")
        kw[flag] = raw.get(flag) is True
    if kw["where"] and not _WHERE.match(kw["where"]):
        probs.add(f"{path}.where", kw["where"], "must be abstract, graphical abstract, text, "
                  "discussion, conclusion, 'table N' or 'figure N'", "malformed-value")
    elif kw["where"]:  # as the paper prints it ("Table 2", "Figure S1") or in lower case
        kw["where"] = canonical_where(kw["where"])
    if kw["p_text"] and not _P_TEXT.match(kw["p_text"]):
        probs.add(f"{path}.p_text", kw["p_text"], "must look like '<0.001'", "malformed-value")
    for key in ("contrast", "compares"):
        if key in raw:
            v = raw[key]
            if not (isinstance(v, list) and all(isinstance(s, str) and s for s in v)
                    and (len(v) == 2 or key == "compares")):
                probs.add(f"{path}.{key}", v, "must be a list of strings"
                          + (" of length 2" if key == "contrast" else ""), "malformed-value")
            else:
                kw[key] = tuple(v)
    if "ci" in raw:
        v = raw["ci"]
        open_upper = (quantity == "km_median" and isinstance(v, list) and len(v) == 2
                      and is_not_reached(v[1]))
        if open_upper:                  # "(95% CI 14.2-NR)": the upper bound not reached
            v = [v[0], math.inf]
            kw["not_reached"] = ("ci_hi",)
        if (not isinstance(v, list) or len(v) != 2 or any(
                isinstance(x, bool) or not isinstance(x, (int, float))
                or not (math.isfinite(x) or open_upper and i == 1) for i, x in enumerate(v))):
            probs.add(f"{path}.ci", v, "must be [lower, upper], two finite numbers (an upper "
                      "bound of a km_median may be \"NR\")", "malformed-number")
        else:
            kw["ci"] = (float(v[0]), float(v[1]))
    is_prop = quantity in PROPORTION_QUANTITIES
    if "percent" in raw and "value" in raw:
        probs.add(f"{path}.percent", raw["percent"], "give value or percent, not both",
                  "malformed-value")
    if "percent" in raw:
        if not is_prop:
            probs.add(f"{path}.percent", raw["percent"], "only km_rate, rate, proportion and "
                      "risk targets take a percent", "malformed-value")
        pct = _num(raw, "percent", probs, path, nonneg=True)
        if pct is not None and pct > 100:
            probs.add(f"{path}.percent", pct, "must lie in [0, 100]", "malformed-number")
        kw["value"], kw["percent_scale"] = (None if pct is None else pct / 100.0), True
        if kw["ci"]:
            kw["ci"] = (kw["ci"][0] / 100.0, kw["ci"][1] / 100.0)
    elif is_not_reached(raw.get("value")):
        if quantity != "km_median":
            probs.add(f"{path}.value", raw["value"], "only a km_median can be printed as not "
                      "reached", "malformed-number")
        kw["value"], kw["percent_scale"] = None, False
        kw["not_reached"] = ("value",) + kw.get("not_reached", ())
    else:
        kw["value"] = _num(raw, "value", probs, path, positive=quantity in RATIO_QUANTITIES,
                           unit=is_prop, nonneg=quantity not in SIGNED_QUANTITIES)
        kw["percent_scale"] = False
    if kw["ci"] and min(kw["ci"]) < 0 and quantity not in SIGNED_QUANTITIES:
        probs.add(f"{path}.ci", list(kw["ci"]), "bounds cannot be negative",
                  "malformed-number")
    if kw["ci"] and not ({"value", "percent"} & set(raw)) and quantity not in ("p_value",):
        kw["value"] = _ci_only(kw["ci"], quantity, path, probs)
        kw["value_from_ci"] = kw["value"] is not None
    kw["misprint"] = parse_misprint(raw, kw, path, probs)
    _check_quantity(raw, quantity, kw, path, probs)
    if kw["not_judged"] is not None and kw["role"] not in (None, "reported"):
        probs.add(f"{path}.not_judged", kw["not_judged"], "only a role = \"reported\" "
                  f"number is left unjudged (role is {kw['role']!r})", "malformed-value")
    if len(probs) > n0 or tid is None or quantity is None:
        return None
    t = Target(id=tid, quantity=quantity, **kw)
    return _printed(t, path, probs)


def _ci_only(ci, quantity, path, probs) -> float | None:
    """The estimate an interval printed without it stands for: its centre on the scale the
    interval is symmetric on (log for ratios, natural for differences and means)."""
    if quantity not in CI_ONLY_QUANTITIES:
        probs.add(f"{path}.value", MISSING, f"a {quantity} printed only as a CI has no "
                  f"recoverable estimate (only {sorted(CI_ONLY_QUANTITIES)}: their Wald "
                  "intervals are symmetric about it)", "missing-key")
        return None
    lo, hi = ci
    if not (math.isfinite(hi) and hi > lo and (lo > 0 or quantity not in RATIO_QUANTITIES)):
        probs.add(f"{path}.ci", list(ci), "a CI-only estimate needs lower < upper (and "
                  "positive bounds for a ratio)", "malformed-number")
        return None
    return math.sqrt(lo * hi) if quantity in RATIO_QUANTITIES else (lo + hi) / 2


def _check_quantity(raw, quantity, kw, path, probs) -> None:
    """Keys each quantity needs."""
    has_value = kw["value"] is not None or "value" in raw or "percent" in raw
    if quantity == "p_value":
        if kw["p"] is None and kw["p_text"] is None:
            probs.add(f"{path}.p", MISSING, "a p_value target needs p or p_text", "missing-key")
    elif quantity in ("rate", "proportion"):
        if not has_value and kw["count"] is None:
            probs.add(f"{path}.value", MISSING, f"a {quantity} needs a count, a value or a "
                      "percent", "missing-key")
    elif not has_value:
        probs.add(f"{path}.value", MISSING, "is required", "missing-key")
    if kw["sd"] is not None and quantity != "mean":
        probs.add(f"{path}.sd", kw["sd"], "only a mean takes an sd (mean ± SD)",
                  "malformed-value")
    if quantity == "km_rate" and kw["time"] is None:
        probs.add(f"{path}.time", MISSING, "a km_rate needs the time (months)", "missing-key")
    if quantity in RATIO_QUANTITIES and not (kw.get("contrast") or kw["term"]):
        probs.add(f"{path}.contrast", MISSING, "a ratio needs a contrast or a term",
                  "missing-key")
    if quantity == "median_difference":
        if not kw.get("contrast"):
            probs.add(f"{path}.contrast", MISSING, "a median_difference needs the contrast "
                      "(the first arm's median minus the second's)", "missing-key")
        if kw["endpoint"] is None:
            probs.add(f"{path}.endpoint", MISSING, "a median_difference needs the endpoint "
                      "whose medians it subtracts", "missing-key")
    if kw["unweighted"] and quantity != "weighted_group_size":
        probs.add(f"{path}.unweighted", kw["unweighted"], "only weighted_group_size targets "
                  "name their unweighted group size", "malformed-value")


def _printed(t: Target, path: str, probs: Problems) -> Target:
    """``t`` with the printed form of each number, located in its own quote (whitespace
    runs normalised); a misprinted number is located as printed, and read as meant
    (:func:`.misprints.corrected_texts`)."""
    vals = {"value": None if t.value_from_ci else t.value, "se": t.se, "sd": t.sd, "p": t.p,
            "count": t.count}
    if t.ci:
        vals["ci_lo"], vals["ci_hi"] = t.ci
    if t.not_reached and not NOT_REACHED_TEXT.search(t.source):
        probs.add(f"{path}.{'value' if 'value' in t.not_reached else 'ci[1]'}", "NR",
                  "is not printed in this target's source quote (NR, not reached, not estimable)",
                  "number-not-in-source")
    vals = {k: v for k, v in vals.items() if v is None or math.isfinite(v)}
    if t.quantity in SIGNED_QUANTITIES:     # located by magnitude: "-0.12", "a 0.12 reduction"
        vals = {k: v if v is None else abs(v) for k, v in vals.items()}
    meant = dict(vals)
    if t.misprint is not None:          # the quote prints the misprint, not the number meant
        vals.update((k, abs(v) if t.quantity in SIGNED_QUANTITIES else v)
                    for k, v in t.misprint.numbers)
    wanted = {name: (vals[name], t.percent_scale and name in ("value", "ci_lo", "ci_hi"))
              for name in _PRINTED_FIELDS if vals.get(name) is not None}
    found = find_printed(t.source, wanted, whole_count=not t.weighted)
    for name, (v, pct) in wanted.items():
        if name not in found:
            key = {"ci_lo": "ci[0]", "ci_hi": "ci[1]"}.get(name, "percent" if pct else name)
            if t.misprint is not None and t.misprint.printed(name) is not None:
                key = f"misprint.{key}"
            probs.add(f"{path}.{key}", round(v * 100 if pct else v, 10), "is not printed in "
                      "this target's source quote", "number-not-in-source")
    if t.p_text and re.sub(r"\s+", "", t.p_text) not in re.sub(r"\s+", "", t.source):
        probs.add(f"{path}.p_text", t.p_text, "is not printed in this target's source quote",
                  "number-not-in-source")
    if t.misprint is None:
        return replace(t, printed=_in_order(found))
    wrong = {k for k, _ in t.misprint.numbers}      # the print to the misprint, the number
    kept = {k: v for k, v in found.items() if k not in wrong}      # meant its own text
    kept.update(corrected_texts(meant, t.misprint, kept, t.percent_scale))
    return replace(t, printed=_in_order(kept), misprint=replace(
        t.misprint, texts=_in_order({k: v for k, v in found.items() if k in wrong})))


def _in_order(texts: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((name, texts[name]) for name in _PRINTED_FIELDS if name in texts)


def parse_targets(data: Mapping, *, file: str = "targets.toml",
                  path: Path | None = None, table: Sequence = (),
                  cohort: Mapping | None = None) -> StudyTargets:
    """Validate a parsed ``targets.toml`` mapping; raise one error listing every problem.

    ``table``: raw targets of the study's Table 1 (:mod:`replications.targets.table`), as
    ``(place, raw)``; a ``[[targets]]`` entry with the same id replaces the table's one.
    ``cohort``: the parsed ``cohort.toml``, whose calibration entries a ``[calibration]``
    table turns into targets (:mod:`replications.targets.calibrated`); they too give way to
    a ``[[targets]]`` entry with their id.
    """
    probs = Problems(file)
    _unknown(data, _TOP_KEYS, probs, "")
    study = data.get("study")
    if not isinstance(study, Mapping):
        probs.add("study", study if "study" in data else MISSING,
                  "a [study] table with the study's id is required (seed_file, the paper's text, is optional)", "missing-key")
        study = {}
    _unknown(study, _STUDY_KEYS, probs, "study")
    study_id = _text(study, "id", probs, "study", required=True, snake=True)
    seed_file = _text(study, "seed_file", probs, "study")
    raws: list[tuple[str, Any]] = []
    for key in ("targets", "baseline", "results", "shifts", "expected_failures"):
        if key in data and not isinstance(data[key], list):
            probs.add(key, data[key], f"must be an array of tables ([[{key}]])",
                      "malformed-value")
    for i, raw in enumerate(raw_items(data.get("targets"))):
        raws.append((f"targets[{i}]", raw))
    for i, raw in enumerate(raw_items(data.get("baseline"))):
        raws.extend(_expand_baseline(raw, f"baseline[{i}]", probs))
    for i, raw in enumerate(raw_items(data.get("results"))):
        raws.extend(expand_results(raw, f"results[{i}]", probs))
    explicit = {r.get("id") for _, r in raws      # (an id not text: _parse_target's error)
                if isinstance(r, Mapping) and isinstance(r.get("id"), str)}
    derived = list(table)
    if "calibration" in data:
        derived += expand_calibration(data["calibration"], cohort, probs)
    raws.extend((p, r) for p, r in derived if r.get("id") not in explicit)
    targets, seen = [], {}
    for p, raw in raws:
        t = _parse_target(raw, p, probs)
        rid = raw.get("id") if isinstance(raw, Mapping) else None
        if isinstance(rid, str):
            if rid in seen:
                probs.add(f"{p}.id", rid, f"duplicate id (also {seen[rid]})", "duplicate-id")
            seen.setdefault(rid, p)
        if t is not None:
            targets.append((p, t))
    for p, raw in raws:                   # references, also of targets with other problems
        if not isinstance(raw, Mapping):
            continue
        for key in ("same_as", "unweighted", "compares"):
            refs = raw.get(key) if key == "compares" else [raw.get(key)]
            for ref in raw_items(refs):
                if not isinstance(ref, str):
                    continue
                if ref not in seen:
                    probs.add(f"{p}.{key}", ref, "names no target in this file",
                              "unknown-target")
                elif ref == raw.get("id"):
                    probs.add(f"{p}.{key}", ref, "a target cannot refer to itself",
                              "malformed-value")
    by_id = {t.id: t for _, t in targets}
    shifts = [s for i, raw in enumerate(raw_items(data.get("shifts")))
              if (s := parse_shift(raw, f"shifts[{i}]", probs, by_id, seen)) is not None]
    for sid in sorted({s.id for s in shifts} & set(seen)):
        probs.add("shifts", sid, "a shift id repeats a target id", "duplicate-id")
    check_mislabel_endpoints(targets, raws, probs)
    shift_ids = {r.get("id") for r in raw_items(data.get("shifts"))
                 if isinstance(r, Mapping) and isinstance(r.get("id"), str)}
    expected = parse_expected_failures(data, seen, by_id, shift_ids, probs)
    claims = parse_claims(data, seen, probs)
    probs.raise_if_any()
    return StudyTargets(study_id=study_id, seed_file=seed_file, path=path,
                        title=study.get("title"), targets=tuple(t for _, t in targets),
                        shifts=tuple(shifts), expected_failures=expected, claims=claims,
                        places={t.id: p for p, t in targets})


def load_targets(path: str | Path) -> StudyTargets:
    """Read ``targets.toml`` (a file, or a study folder containing one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "targets.toml"
    if not path.is_file():
        raise ValueError(f"path: no targets.toml at {str(path)!r}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StudyError([toml_problem(str(path), exc)]) from None
    try:
        table = study_table_targets(path.parent)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        table = []                  # cohort.toml's own loader reports where it breaks
    except SpecError as exc:                  # the cohort loader reports each problem
        key, msg = exc.problems[0]
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        raise TableUnreadable(f"{path.parent / 'cohort.toml'}: its Table 1 cannot be read: "
                              f"{key}: {msg}{more}") from None
    return parse_targets(data, file=str(path), path=path, table=table,
                         cohort=_cohort(path.parent) if "calibration" in data else None)


def _cohort(folder: Path) -> Mapping | None:
    """The folder's parsed cohort.toml, or None (its own loader reports why it is unreadable)."""
    try:
        return tomllib.loads((folder / "cohort.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
