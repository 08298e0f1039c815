"""Every quoted ``source`` of a study checked against the paper's text.

The comparison forgives runs of whitespace only: tabs between table cells and the line
breaks a text extraction puts inside sentences become one space; nothing else is forgiven
(not case, not hyphens, not Unicode look-alikes), so a quote that passes is verbatim.
``[study].source`` of cohort.toml is a citation, not a quote, and is skipped. The shipped
studies are held to the same rule against their seed texts by the test suite.
"""
from __future__ import annotations

import re
import tomllib
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
    out = []
    for name in QUOTED_FILES:
        try:
            raw = tomllib.loads((Path(folder) / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue                 # the folder's own check reports why
        missing = [Problem(str(Path(folder) / name), key, quote,
                           f"this quote is not in {Path(paper).name} (compared verbatim, "
                           "whitespace runs as one space)", "not-in-paper")
                   for key, quote in sources(raw) if normalise(quote) not in text]
        out.extend(label_problems(missing, raw))     # targets[i] (id): found by id
    return out
