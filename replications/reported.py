"""The kind of a reported number and why: the records that :mod:`replications.unjudged`
makes and a run's plan carries.

A leaf module (it imports nothing of the project), so that a plan sent to a worker process
unpickles without the classification's own imports (the audit and its statistics).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["Kind", "Reported"]


class Kind(str, Enum):
    """The three kinds of reported number (:mod:`replications.unjudged`)."""

    INPUT = "input"
    COMPUTED = "computed"
    NOT_COMPUTED = "not computed"


@dataclass(frozen=True)
class Reported:
    """One reported target's kind and why.

    ``why`` says what gives an input to the generator, which estimate computes a computed
    number, or why no analysis computes the rest (the binder's words).
    """

    id: str
    kind: Kind
    why: str
    analysis: str | None = None       # computed: the analysis whose estimate it is
    column: str | None = None         # a Table 1 cell: the cohort.toml key of its column
    reason: str | None = None         # its ``not_judged`` reason (that of its original)
    original: str | None = None       # a same_as repeat of a reported number: the original
    misspelt: str | None = None       # an HR whose term its model lacks: the binder's words
