"""Targets as frozen dataclasses, the vocabulary, and the id convention."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from .misprints import Misprint, describe_misprint

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = [
    "QUANTITIES", "ROLES", "RATIO_QUANTITIES", "PROPORTION_QUANTITIES", "SIGNED_QUANTITIES", "SHIFT_SCALES",
    "INTERVALS", "CI_ONLY_QUANTITIES", "TARGET_KEYS", "MISLABEL_FIELDS", "Target", "Shift", "Mislabel",
    "ExpectedFailure", "StudyTargets", "arm_slug", "expected_id", "printed_numbers",
    "find_printed", "level_slug",
]

#: Vocabulary of ``quantity`` (what kind of number a target is).
QUANTITIES = frozenset({
    "km_median", "km_rate", "hr", "odds_ratio", "rate", "proportion", "group_size",
    "weighted_group_size", "count", "smd", "arr", "nnt", "rmst", "p_value", "median_followup",
    "person_time", "mean", "median", "risk", "risk_difference", "risk_ratio", "rmst_difference",
    "median_difference",
})
RATIO_QUANTITIES = frozenset({"hr", "odds_ratio", "risk_ratio"})
#: Quantities that may be negative (differences between arms).
SIGNED_QUANTITIES = frozenset({"risk_difference", "rmst_difference", "median_difference"})
#: Quantities whose estimate a CI printed alone determines (Wald, symmetric on its scale).
CI_ONLY_QUANTITIES = frozenset({"hr", "odds_ratio", "arr", "mean", "rmst", "risk_difference",
                                "risk_ratio", "rmst_difference"})
PROPORTION_QUANTITIES = frozenset({"km_rate", "rate", "proportion", "risk"})
ROLES = frozenset({"calibration", "predicted", "reported"})
SHIFT_SCALES = frozenset({"log", "linear"})
INTERVALS = frozenset({"ci", "range", "iqr"})

TARGET_KEYS = frozenset({
    "id", "analysis", "quantity", "endpoint", "arm", "contrast", "term", "level", "time",
    "value", "percent", "ci", "ci_level", "interval", "se", "sd", "p", "p_text", "count",
    "denominator", "weighted", "role", "required", "where", "source", "same_as", "partition",
    "unweighted", "test", "compares", "note", "mislabel", "not_judged", "misprint",
})
#: The target keys a ``mislabel`` can correct: what kind of number it is.
MISLABEL_FIELDS = ("endpoint", "quantity")
_P_TEXT = re.compile(r"^\s*([<>≤≥]=?)\s*(\d*\.?\d+)\s*$")
_NUMBER = re.compile(r"(?<!\d)(?<!\d\.)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?")
_MIDDLE_DOT = re.compile(r"(?<=\d)\u00b7(?=\d)")
_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())}


@dataclass(frozen=True)
class Mislabel:
    """The paper prints a number under the wrong label; the target is judged as ``actual``.

    ``key`` is the target key the label sets (``endpoint`` or ``quantity``), ``printed``
    its value as the quote labels the number, ``actual`` what the paper's own data show it
    is; ``reason`` says how (in words), ``finding`` names the audit rule that flags it.
    """

    key: str
    printed: str
    actual: str
    reason: str
    finding: str

    def describe(self) -> str:
        """``"printed as orr_3m, judged as dcr_3m (audit: same_as_agree)"``."""
        return (f"printed as {self.printed}, judged as {self.actual} "
                f"(audit: {self.finding})")


@dataclass(frozen=True)
class ExpectedFailure:
    """A declared, justified failure of one simulated target or shift.

    ``finding`` (an audit rule that flags the target) and/or ``evidence`` (the analysis
    behind the declaration, in words) justify it; ``reason`` says why it fails.
    """

    target: str
    reason: str
    finding: str | None = None
    evidence: str | None = None


@dataclass(frozen=True)
class Target:
    """One reported number, its analysis, its role and its verbatim source."""

    id: str
    analysis: str
    quantity: str
    role: str
    where: str
    source: str
    endpoint: str | None = None
    arm: str | None = None
    contrast: tuple[str, str] | None = None
    term: str | None = None
    level: str | None = None
    time: float | None = None
    value: float | None = None
    ci: tuple[float, float] | None = None
    ci_level: float = 0.95
    interval: str = "ci"
    se: float | None = None
    sd: float | None = None                  # a mean's printed SD (mean ± SD, mean (SD))
    p: float | None = None
    p_text: str | None = None
    count: float | None = None
    denominator: float | None = None
    weighted: bool = False
    required: bool = False
    same_as: str | None = None
    partition: str | None = None
    unweighted: str | None = None
    test: str | None = None
    compares: tuple[str, ...] = ()
    note: str | None = None
    #: why a ``reported`` number that an analysis of the study computes is not judged
    #: (:mod:`replications.unjudged`): counted apart, with this reason, never silently
    not_judged: str | None = None
    mislabel: Mislabel | None = None         # printed label wrong: judged as mislabel.actual
    #: numbers printed wrongly (:mod:`.misprints`): the fields above hold those meant
    misprint: Misprint | None = None
    percent_scale: bool = False              # value was printed as a percentage
    not_reached: tuple[str, ...] = ()        # "value" / "ci_hi" printed as not reached (NR)
    value_from_ci: bool = False              # printed only as a CI: value is its centre
    printed: tuple[tuple[str, str], ...] = ()  # (field, printed text) found in the source

    def printed_text(self, name: str) -> str | None:
        """The number as printed in the source (``"17.0"``), or None if not found."""
        return dict(self.printed).get(name)

    def decimals(self, name: str) -> int | None:
        text = self.printed_text(name)
        if text is None:
            return None
        return len(text.split(".", 1)[1]) if "." in text else 0

    def resolution(self, name: str) -> float:
        """Half a unit in the last printed digit of ``name``, on the stored value's scale.

        Falls back to 0 (exact) when the printed form is unknown, e.g. for a denominator
        taken from a column header.
        """
        if name == "value" and self.value_from_ci:
            return self._centre_resolution()
        d = self.decimals(name)
        if d is None:
            return 0.0
        scale = 100.0 if (self.percent_scale and name in ("value", "ci_lo", "ci_hi")) else 1.0
        return 0.5 * 10.0 ** (-d) / scale

    def _centre_resolution(self) -> float:
        """Half-width of the values the centre of a CI printed alone may take when each
        bound may be anything that rounds to it (the log-centre's moves, carried to the
        natural scale, for a ratio)."""
        (lo, hi), h_lo, h_hi = self.ci, self.resolution("ci_lo"), self.resolution("ci_hi")
        if self.quantity in RATIO_QUANTITIES:
            return self.value * (h_lo / lo + h_hi / hi) / 2
        return (h_lo + h_hi) / 2

    @property
    def p_bound(self) -> tuple[str, float] | None:
        """``("<", 0.001)`` for ``p_text = "<0.001"``; None without ``p_text``."""
        if self.p_text is None:
            return None
        m = _P_TEXT.match(self.p_text)
        op = m.group(1).replace("≤", "<=").replace("≥", ">=")
        return op, float(m.group(2))

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "printed"}
        out["printed"] = dict(self.printed)
        out["mislabel"] = self.mislabel.describe() if self.mislabel else None
        out["misprint"] = describe_misprint(self) or None
        return out


@dataclass(frozen=True)
class Shift:
    """A paired shift: ``to`` minus ``from`` on the given scale, computed per replicate.

    ``reported`` is the published shift; with contrasts of opposite orientation (an HR of
    A vs B against one of B vs A) the ``to`` estimate is inverted first (``orientation``).
    """

    id: str
    from_: str
    to: str
    scale: str = "log"
    role: str = "predicted"
    required: bool = False
    note: str | None = None
    orientation: int = 1
    reported: float | None = None


@dataclass(frozen=True)
class StudyTargets:
    """All targets and paired shifts of one study."""

    study_id: str
    seed_file: str | None
    targets: tuple[Target, ...]
    shifts: tuple[Shift, ...] = ()
    path: Path | None = None
    expected_failures: tuple[ExpectedFailure, ...] = ()
    title: str | None = None
    claims: tuple = ()                       # replications.targets.claims.Claim
    #: target id -> where the file gives it: ``targets[3]``, ``baseline[2].cells[0]``,
    #: ``results[0].rows[1]``, a Table 1 cell's place, a ``[calibration]`` entry's key
    places: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    by_id: Mapping[str, Target] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "by_id", {t.id: t for t in self.targets})

    def __getitem__(self, target_id: str) -> Target:
        return self.by_id[target_id]

    def __iter__(self):
        return iter(self.targets)

    def __len__(self) -> int:
        return len(self.targets)

    def select(self, **criteria) -> tuple[Target, ...]:
        """Targets whose attributes equal every given criterion, e.g. ``role="predicted"``."""
        return tuple(t for t in self.targets
                     if all(getattr(t, k) == v for k, v in criteria.items()))

    @property
    def analyses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.analysis for t in self.targets))

    def same_as_groups(self) -> list[tuple[Target, ...]]:
        """Connected components of the ``same_as`` links (groups of two or more)."""
        parent = {t.id: t.id for t in self.targets}

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i
        for t in self.targets:
            if t.same_as in parent:
                parent[find(t.id)] = find(t.same_as)
        groups: dict[str, list[Target]] = {}
        for t in self.targets:
            groups.setdefault(find(t.id), []).append(t)
        return [tuple(g) for g in groups.values() if len(g) > 1]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        rows = [t.to_dict() for t in self.targets]
        frame = pd.DataFrame(rows)
        frame.insert(0, "study", self.study_id)
        return frame


def arm_slug(label: str) -> str:
    """``"TACE+sorafenib"`` -> ``"tace_sorafenib"``: lower case, non-alphanumeric runs -> ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")



_OPERATORS = (("<=", " le "), (">=", " ge "), ("≤", " le "), ("≥", " ge "), ("<", " lt "),
              (">", " gt "), ("+", " plus "))


def level_slug(label: str) -> str:
    """A level label as an id part: comparison signs spelt out (``"<60"`` -> ``"lt_60"``)."""
    for sign, word in _OPERATORS:
        label = label.replace(sign, word)
    return arm_slug(label)


def expected_id(t: Target) -> str:
    """The id stem the naming convention gives a target (a ``_{where}`` suffix may follow).

    A mislabelled target is named as printed, like its quote (``orr_3m_..._discussion``
    for a DCR the Discussion calls ORR).
    """
    if t.mislabel is not None:
        t = replace(t, **{t.mislabel.key: t.mislabel.printed})
    arm = [arm_slug(t.arm)] if t.arm else []
    lvl = [level_slug(t.level)] if t.level else []
    term = [level_slug(t.term)] if t.term else []
    ep = [t.endpoint] if t.endpoint else []
    q = t.quantity
    if q == "km_median":
        parts = ep + ["median"] + arm
    elif q == "km_rate":
        parts = ep + [f"rate{t.time:g}m"] + arm
    elif q in ("hr", "odds_ratio", "arr", "nnt", "rmst", "p_value"):
        short = {"hr": "hr", "odds_ratio": "or", "p_value": "p"}.get(q, q)
        parts = ep + [short] + term + lvl
    elif q == "rate":
        parts = ep + lvl + arm
    elif q == "proportion":
        parts = ["bl"] + term + lvl + arm
    elif q == "smd":
        parts = ["bl"] + term + ["smd"]
    elif q in ("group_size", "weighted_group_size"):
        parts = ["n"] + arm
    elif q == "median_followup":
        parts = ["followup_median"] + arm
    else:                               # count, person_time, mean, median
        parts = ep + term + lvl + [q] + arm
    return "_".join(parts + [t.analysis])


def printed_numbers(text: str) -> list[tuple[str, float, int]]:
    """Numbers printed in ``text`` as ``(printed, value, position)``, ``one``..``twenty`` too.

    A middle dot between digits is a decimal point (The Lancet's journals print ``0·70``):
    the printed form then has a point, so its decimals read as any other's."""
    text = _MIDDLE_DOT.sub(".", text)  # (one character for one: positions unchanged)
    out = [(m.group(0), float(m.group(0).replace(",", "")), m.start())
           for m in _NUMBER.finditer(text)]
    for m in re.finditer(r"[A-Za-z]+", text):
        if m.group(0).lower() in _WORDS:
            out.append((m.group(0), float(_WORDS[m.group(0).lower()]), m.start()))
    return out


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def find_printed(source: str, wanted: Mapping[str, tuple[float, bool]],
                 whole_count: bool = False) -> dict[str, str]:
    """The printed form of each wanted number in ``source``.

    ``wanted`` maps a field name to ``(value, percent)``; a percent field also matches
    ``100 * value``. A field may match several printed numbers (a table row repeats
    values across cells; ``"per 1 g/L ... 1.00 (0.95-1.00)"`` has ``1`` and ``1.00``): the
    fields of one target are printed next to each other, so the matches taken are those
    closest together (the tightest span around one anchor match), ties going to more
    decimals. ``whole_count`` (a count of people): the count is a whole number as
    printed when one is, and no two fields share a printed number when they can help it,
    so that a count equal to its percentage, ``"45 (45.0%)"``, is read as ``45`` and
    ``45.0``, not twice ``45.0``. Fields not printed at all are missing from the result.
    """
    numbers = printed_numbers(source)
    cands = {}
    for name, (value, percent) in wanted.items():
        hits = [(txt, pos) for txt, v, pos in numbers
                if math.isclose(v, value, rel_tol=1e-9, abs_tol=1e-12)
                or (percent and math.isclose(v, value * 100.0, rel_tol=1e-9, abs_tol=1e-12))]
        if hits:
            cands[name] = hits
    if whole_count and "count" in cands:
        cands["count"] = [h for h in cands["count"] if "." not in h[0]] or cands["count"]
        best = _closest(cands, distinct=True)
        if best:
            return best
    return _closest(cands, distinct=False)


def _closest(cands: Mapping[str, list], distinct: bool) -> dict[str, str]:
    """The fields' printed forms closest together (:func:`find_printed`); ``distinct``:
    each field a printed number of its own (empty when that is impossible)."""
    best, best_key = {}, None
    for anchor_name, hits in cands.items():
        for txt, pos in hits:
            pick = {anchor_name: (txt, pos)}
            for name, others in cands.items():
                if name != anchor_name:
                    used = {p for _, p in pick.values()}
                    free = [h for h in others if not (distinct and h[1] in used)]
                    if not free:
                        break
                    pick[name] = min(free, key=lambda h: (abs(h[1] - pos), -_decimals(h[0])))
            else:
                spots = [p for _, p in pick.values()]
                key = (max(spots) - min(spots), -sum(_decimals(t) for t, _ in pick.values()))
                if best_key is None or key < best_key:
                    best, best_key = pick, key
    return {name: txt for name, (txt, _) in best.items()}
