"""Problems found in a study folder, collected rather than raised one at a time.

A study author fixes a folder faster when every mistake is listed at once, each naming the
file, the key (a dotted path such as ``analyses[2].adjustment.covariates[1]``) and the
offending value. Parsers append :class:`Problem` records to a :class:`Problems` list and
carry on; :meth:`Problems.raise_if_any` turns the list into one ``ValueError``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["SPEC_GAP", "Problem", "Problems", "RoleFix", "StudyError", "raw_items",
           "raw_table", "toml_problem"]

#: The end of a check warning on a target the study folder cannot simulate (a spec gap:
#: its verdict is "not simulated", not "not estimable", which says the paper's analysis
#: fails on data like the paper's).
SPEC_GAP = "it will be 'not simulated' (a spec gap)"


@dataclass(frozen=True)
class RoleFix:
    """The one role a problem's target must have: ``tacebench migrate --roles`` applies it.

    Set where the format's own rules give the answer: a number the generator is fitted to
    or given is ``calibration``; one nothing is fitted to is ``predicted``; one the run
    computes is judged (``predicted``) unless the folder says why not, which a migration
    cannot know.
    """

    target: str     # the target's id in targets.toml, or a Table 1 column's cohort.toml key
    role: str
    column: bool = False   # target is a ``cohorts.<cohort>.table1.columns[i]`` key


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a study folder."""

    file: str
    key: str
    value: Any
    message: str
    kind: str = "invalid"   # a short machine-readable tag, e.g. "unknown-analysis-kind"
    severity: str = "error"  # "error" fails `tacebench check`; "warning" is reported only
    fix: RoleFix | None = None   # the role that mends it, where the check knows it

    def __str__(self) -> str:
        shown = _show(self.value)
        where = f"{self.file}: {self.key}" if self.key else self.file
        text = f"{where} = {shown}: {self.message}" if shown else f"{where}: {self.message}"
        return text if self.severity == "error" else f"{text} [{self.severity}]"

    def to_dict(self) -> dict:
        return {"file": self.file, "key": self.key, "value": _show(self.value),
                "message": self.message, "kind": self.kind, "severity": self.severity}


def _show(value: Any) -> str:
    if value is _MISSING:
        return ""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Missing:
    def __repr__(self) -> str:  # pragma: no cover - never shown
        return "<missing>"


#: Value placeholder for a key that is absent altogether.
_MISSING = _Missing()
MISSING = _MISSING


def raw_items(value) -> list:
    """``value`` when it is a TOML array, else an empty list: for the readers of a raw
    study file that run beside its checks, where a key given another type (``variables =
    5``) is the loader's error to report, not theirs to raise on."""
    return value if isinstance(value, list) else []


def raw_table(value) -> Mapping:
    """``value`` when it is a TOML table, else an empty one: :func:`raw_items` for the
    tables of a raw study file (``cohorts = 5`` is the loader's error to report)."""
    return value if isinstance(value, Mapping) else {}


class StudyError(ValueError):
    """A study folder has one or more problems; ``.problems`` lists them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        n = len(self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the study folder:\n{lines}")


@dataclass
class Problems:
    """An append-only list of problems bound to one file name."""

    file: str
    items: list[Problem] = field(default_factory=list)

    def add(self, key: str, value: Any, message: str, kind: str = "invalid",
            severity: str = "error", fix: RoleFix | None = None) -> None:
        self.items.append(Problem(self.file, key, value, message, kind, severity, fix))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    def extend(self, other: "Problems | list[Problem]") -> None:
        self.items.extend(other.items if isinstance(other, Problems) else other)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self) -> None:
        """Raise a :class:`StudyError` if any problem is an error (warnings pass)."""
        if self.errors:
            raise StudyError(self.errors)


_AT = re.compile(r"\s*\(at (line \d+, column \d+|end of document)\)$")


def toml_problem(file: str, exc: Exception) -> Problem:
    """A file ``tomllib`` cannot parse: the key is where (``line 3, column 7`` or ``end of
    file``), the message what."""
    text = str(exc)
    m = _AT.search(text)
    where = ("end of file" if m.group(1) == "end of document" else m.group(1)) if m else ""
    return Problem(file, where, MISSING, f"not valid TOML: {text[:m.start()] if m else text}",
                   "malformed")
