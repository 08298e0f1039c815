"""Every quoted ``source`` of a study checked against the paper's text.

The comparison forgives runs of whitespace only: tabs between table cells and the line
breaks a text extraction puts inside sentences become one space; nothing else is forgiven
(not case, not hyphens, not Unicode look-alikes), so a quote that passes is verbatim.
A quote that fails but is found once typography is folded (:data:`FOLDS`: ligatures,
dashes, quotation marks, a word hyphenated at a line end) still fails, and its error
says which folding finds it: the paper's text was extracted differently from the one the
quotes were copied from.
``[study].source`` of cohort.toml is a citation, not a quote, and is skipped. The shipped
studies are held to the same rule against their seed texts by the test suite.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from itertools import combinations
from pathlib import Path
from typing import Iterator

from tacebench.simulate.text_files import read_text_file

from .analysis.problems import Problem
from .check_build import label_problems

__all__ = ["normalise", "sources", "quote_problems", "QUOTED_FILES"]

#: The study files whose ``source`` keys quote the paper.
QUOTED_FILES = ("targets.toml", "cohort.toml")


def normalise(text: str) -> str:
    """``text`` with each run of whitespace as one space, stripped."""
    return re.sub(r"\s+", " ", text).strip()


_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"), "-")
_QUOTES = {**dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032"), "'"),
           **dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033"), '"')}

#: Typographic differences between two extractions of one paper, each a function of
#: whitespace-normalised text: only named in an error, never forgiven.
FOLDS = {
    # (NFKC: the ligature 'ﬁ' is 'fi', a no-break space a space, a soft hyphen nothing)
    "ligatures and compatibility characters": lambda t: normalise(
        unicodedata.normalize("NFKC", t).replace("\u00ad", "")),
    "dashes and minus signs": lambda t: t.translate(_DASHES),
    "quotation marks": lambda t: t.translate(_QUOTES),
    # 'occur-' at a line's end, 'rence' on the next: 'occur- rence' once normalised
    "words hyphenated at a line end": lambda t: re.sub(r"(?<=[a-z])- (?=[a-z])", "", t),
}


def typography_found(quote: str, text: str | "FoldedText") -> tuple[str, ...]:
    """The :data:`FOLDS` under which ``quote`` is in ``text`` (both whitespace-normalised;
    ``text`` may be a :class:`FoldedText`, folded once for many quotes), fewest first;
    ``()`` if none finds it (or it is there verbatim)."""
    folded = text if isinstance(text, FoldedText) else FoldedText(text)
    if quote in folded.raw:
        return ()
    for combo in folded.combos:
        q = quote
        for name in combo:
            q = FOLDS[name](q)
        if q in folded.text(combo):
            return combo
    return ()


class FoldedText:
    """A paper's whitespace-normalised text under each combination of :data:`FOLDS`,
    folded on first use (a paper whose quotes all fail is folded 15 times, not 15 times
    per quote)."""

    def __init__(self, text: str):
        self.raw, self._texts = text, {}
        self.combos = [c for k in range(1, len(FOLDS) + 1) for c in combinations(FOLDS, k)]

    def text(self, combo: tuple[str, ...]) -> str:
        if combo not in self._texts:
            t = self.raw
            for name in combo:
                t = FOLDS[name](t)
            self._texts[combo] = t
        return self._texts[combo]


def _not_found(quote: str, text: "FoldedText", paper: str) -> str:
    folds = typography_found(quote, text)
    msg = f"this quote is not in {paper} (compared verbatim, whitespace runs as one space)"
    if folds:
        msg += (f"; it is there once {' and '.join(folds)} are folded: the paper's text was "
                f"extracted differently from the one quoted (copy the quote from this text, "
                f"or check it against the text it was copied from)")
    return msg


def sources(node, path: str = "") -> Iterator[tuple[str, str]]:
    """(key path, quote) for every string under a key named ``source``, except the
    citation ``study.source``."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else key
            if key == "source" and isinstance(value, str):
                if here != "study.source":
                    yield here, value
            else:
                yield from sources(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from sources(value, f"{path}[{i}]")


def quote_problems(folder: Path, paper: Path) -> list[Problem]:
    """An error for every quote of the study folder not found in the paper's text.

    Parameters
    ----------
    folder : Path
        The study folder.
    paper : Path
        The paper as UTF-8 text.

    Returns
    -------
    list of Problem
    """
    try:
        text = normalise(read_text_file(paper, "paper's text"))
    except OSError as exc:
        return [Problem(str(paper), "", str(paper), "the paper's text cannot be read: "
                        f"{exc.strerror or exc}", "paper")]
    except ValueError as exc:          # a byte that is not UTF-8, by line and column
        return [Problem(str(paper), "", str(paper), f"the paper's text cannot be read: {exc}",
                        "paper")]
    out, folded = [], FoldedText(text)
    for name in QUOTED_FILES:
        try:
            raw = tomllib.loads((Path(folder) / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue                 # the folder's own check reports why
        missing = [Problem(str(Path(folder) / name), key, quote,
                           _not_found(normalise(quote), folded, Path(paper).name),
                           "not-in-paper")
                   for key, quote in sources(raw) if normalise(quote) not in text]
        out.extend(label_problems(missing, raw))     # targets[i] (id): found by id
    return out
