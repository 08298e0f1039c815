"""``tacebench migrate``: move a study's Table 1 from TOML rows to a printed table file.

A study folder written before Table 1 files existed states its baseline table as
``[[baseline]]`` rows and Table-1 ``[[targets]]`` (p-values, SMDs, means) in
``targets.toml``. :func:`migrate_study` rebuilds the printed table from their quotes
(:mod:`replications.migrate_draft`), declares it in ``cohort.toml`` and removes the TOML
entries the table now gives, and only when the result is shorter and equivalent. It proves
the equivalence before writing, on a copy of the folder: the compiled cohort inputs are
identical, and the loaded targets are the same ids with the same fields (values, roles,
partitions, compared cells, tests, notes) and quotes that are the same text or the target's
own printed row cut from the longer quote (whitespace aside). Anything else is refused with
the difference. A target the table cannot give as written (a note, a role of its own, a
number not found in its quote) stays in ``targets.toml``, where it replaces the table's.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import re
import shutil
import tempfile
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tacebench.engine.files import replace_files
from tacebench.replications.analysis.problems import Problems, raw_table
from tacebench.simulate.io import load_spec
from tacebench.simulate.table1 import read_cohort_toml, read_table1

from .migrate_draft import (TABLE_QUANTITIES, Candidate, TableDraft, draft_tables, norm)
from .migrate_toml import insert_declaration, remove_blocks
from .targets import load_targets
from .targets.baseline import expand_baseline
from .targets.table import table_targets

__all__ = ["Migration", "migrate_study", "target_differences", "quote_change"]


@dataclass(frozen=True)
class Migration:
    """What ``tacebench migrate`` did (or would do) to one study folder.

    ``status`` is ``"nothing to do"``, ``"migrated"``, ``"would migrate"`` (dry run) or
    ``"refused"``; ``differences`` say why a migration was refused.
    """

    folder: Path
    status: str
    reason: str = ""
    files: tuple[tuple[str, str], ...] = ()         # (file name, new text)
    moved: tuple[str, ...] = ()                     # ids the table files now give
    kept: tuple[tuple[str, str], ...] = ()          # (id, why it stays in targets.toml)
    shortened: tuple[str, ...] = ()                 # ids whose quote is now its row alone
    lines_before: int = 0
    lines_after: int = 0
    differences: tuple[str, ...] = ()

    def summary(self) -> str:
        """The report ``tacebench migrate`` prints."""
        head = f"{self.folder}: {self.status}"
        if self.reason:
            head += f" ({self.reason})"
        out = [head]
        if self.moved:
            out.append(f"  {len(self.moved)} Table 1 target(s) now given by "
                       f"{', '.join(n for n, _ in self.files if n.endswith('.tsv'))}; "
                       f"lines {self.lines_before} -> {self.lines_after}")
        if self.shortened:
            out.append(f"  {len(self.shortened)} quote(s) are now the target's printed row "
                       f"(cut from a longer quote, or as another quote prints it), e.g. "
                       f"{self.shortened[0]}")
        by_reason: dict[str, list[str]] = {}
        for tid, why in self.kept:
            by_reason.setdefault(why, []).append(tid)
        for why, ids in by_reason.items():
            more = f" and {len(ids) - 4} more" if len(ids) > 4 else ""
            out.append(f"  kept in targets.toml ({why}): {', '.join(ids[:4])}{more}")
        out.extend(f"  difference: {d}" for d in self.differences)
        return "\n".join(out)


def _line_count(text: str) -> int:
    return len(text.splitlines())


def _candidates(data: dict) -> list[Candidate]:
    """The TOML form's Table 1 targets: [[baseline]] cells and table [[targets]]."""
    blocks = [b for b in data.get("baseline") or [] if isinstance(b, dict)]
    wheres = {b.get("where") for b in blocks if isinstance(b.get("where"), str)} or {"table 1"}
    out = []
    for i, raw in enumerate(data.get("targets") or []):
        out.append(Candidate(("targets", i), raw))
    for i, raw in enumerate(data.get("baseline") or []):
        out.extend(Candidate(("baseline", i), t)
                   for _, t in expand_baseline(raw, f"baseline[{i}]", Problems("targets.toml")))
    return [c for c in out if isinstance(c.raw, dict) and c.raw.get("where") in wheres
            and c.raw.get("quantity") in TABLE_QUANTITIES and isinstance(c.raw.get("id"), str)
            and isinstance(c.raw.get("term"), str) and isinstance(c.raw.get("source"), str)]


def _cohort_of(folder: Path, cohort: dict, cands: list[Candidate]) -> dict[str, str]:
    """``where -> cohort``: the cohort of the analyses its cells belong to."""
    names = list(raw_table(cohort.get("cohorts")).keys())
    analyses = {}
    path = folder / "analysis.toml"
    if path.is_file():
        for a in tomllib.loads(path.read_text("utf-8")).get("analyses") or []:
            if isinstance(a, dict) and isinstance(a.get("name"), str):
                analyses[a["name"]] = a.get("cohort", names[0] if len(names) == 1 else None)
    out = {}
    for where in {c.raw["where"] for c in cands}:
        found = {analyses.get(c.raw.get("analysis")) for c in cands if c.raw["where"] == where}
        found.discard(None)
        if len(found) == 1:
            out[where] = found.pop()
        elif not found and len(names) == 1:
            out[where] = names[0]
    return out


def _blocked(cohort: dict, cohort_of: dict[str, str], cands: list[Candidate]
             ) -> dict[str, str]:
    """``where -> why`` of the baseline tables that cannot become a file: a cohort has one
    Table 1 file (a cohort that declares one already, or a second table of a cohort)."""
    declared = {n for n, c in raw_table(cohort.get("cohorts")).items()
                if isinstance(c, dict) and "table1" in c}
    out, taken = {}, {}
    for where in sorted({c.raw["where"] for c in cands}):
        name = cohort_of.get(where)
        if name is None:
            out[where] = "no single cohort holds the analyses of its cells"
        elif name in declared:
            out[where] = f"cohort {name!r} declares its Table 1 file already (one per cohort)"
        elif name in taken:
            out[where] = f"cohort {name!r} gets {taken[name]} as its table file (one per cohort)"
        else:
            taken[name] = where
    return out


def _declaration(d: TableDraft, file: str) -> dict:
    decl = {"file": file}
    if d.where != "table 1":
        decl["where"] = d.where
    decl.update(quote_header=False, columns=[dict(c) for c in d.columns])
    return decl


def _tsv(d: TableDraft, study_id: str) -> str:
    fmt = any(r[2] for r in d.rows)
    buf = io.StringIO()
    buf.write(f"# {d.where.capitalize()} of {study_id} as printed, rebuilt by `tacebench "
              "migrate` from the row quotes\n# of targets.toml; the columns are named, not "
              "quoted.\n")
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(["variable", "level", *(["format"] if fmt else []), *d.header])
    for var, level, f, cells in d.rows:
        w.writerow([var, level or "", *([f or ""] if fmt else []), *cells])
    return buf.getvalue()


def quote_change(new: str, old: str, quotes: set[str]) -> str | None:
    """How a target's quote changed: ``"same"``, ``"row"`` (its own printed row cut from
    a longer quote), ``"full row"`` (its row with the cells its quote stopped before, as
    another written quote prints it) or None (any other change: not equivalent).

    ``quotes`` are the study's written quotes, whitespace-normalised (:func:`norm`).
    """
    a, b = norm(old), norm(new)
    if a == b:
        return "same"
    if b in a:
        return "row"
    if b.startswith(a + " ") and any(b in q for q in quotes):
        return "full row"
    return None


def _same(derived: dict, raw: dict, quotes: set[str]) -> str:
    """"" when the table's target is the written one (its quote may be the row alone)."""
    keys = (set(derived) | set(raw)) - {"source"}
    diff = sorted(k for k in keys if derived.get(k) != raw.get(k))
    if diff:
        return "the table gives " + ", ".join(
            f"{k} = {derived.get(k)!r} (written {raw.get(k)!r})" for k in diff)
    if quote_change(derived["source"], raw["source"], quotes) is None:
        return f"the table's quote {derived['source']!r} is not its written one nor its row"
    return ""


def _derive(drafts: list[TableDraft], cohort: dict) -> dict[str, tuple[TableDraft, dict, tuple]]:
    """The targets the drafts give: ``id -> (draft, raw target, its column key)``."""
    out = {}
    for d in drafts:
        decl = _declaration(d, "x.tsv")
        decl.pop("file")
        header = ["variable", "level", "format", *d.header]
        decl["rows"] = [header] + [[v, lv or "", f or "", *cells] for v, lv, f, cells in d.rows]
        arms = raw_table(raw_table(cohort.get("cohorts")).get(d.cohort)).get("arms") or []
        key_of = dict(d.keys)
        for place, t in table_targets(read_table1(decl, None, d.cohort), arms):
            out[t["id"]] = (d, t, key_of.get(place.split(", column ", 1)[1][1:-1]))
    return out


def target_differences(before, after) -> tuple[list[str], list[str]]:
    """How two loaded studies' targets differ: ``(differences, shortened quotes)``.

    Parameters
    ----------
    before, after : StudyTargets
        The study's targets as written and as migrated.

    Returns
    -------
    (list of str, list of str)
        Every difference (an id missing or added, a field that changed, a quote that is
        not the old one nor its row, :func:`quote_change`), and the ids whose quote is now
        their printed row.
    """
    old, new = {t.id: t for t in before.targets}, {t.id: t for t in after.targets}
    diffs = [f"{i}: no longer a target" for i in old if i not in new]
    diffs += [f"{i}: a new target" for i in new if i not in old]
    quotes = {norm(t.source) for t in before.targets}
    short = []
    for i in (i for i in old if i in new):
        a, b = old[i], new[i]
        for f in dataclasses.fields(a):
            va, vb = getattr(a, f.name), getattr(b, f.name)
            if f.name == "source":
                change = quote_change(vb, va, quotes)
                if change is None:
                    diffs.append(f"{i}: quote {vb!r} is neither {va!r} nor its row")
                elif change != "same":
                    short.append(i)
            elif va != vb:
                diffs.append(f"{i}: {f.name} {vb!r}, was {va!r}")
    for name in ("study_id", "seed_file", "title", "shifts", "expected_failures", "claims"):
        if getattr(before, name) != getattr(after, name):
            diffs.append(f"{name} changed")
    return diffs, short


def _prove(folder: Path, files: dict[str, str]) -> tuple[list[str], list[str]]:
    """Write the new files into a copy of the folder and compare what both compile to."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / folder.name
        shutil.copytree(folder, copy)
        for name, text in files.items():
            (copy / name).write_text(text, encoding="utf-8")
        diffs, short = target_differences(load_targets(folder), load_targets(copy))
        if read_cohort_toml(folder / "cohort.toml") != read_cohort_toml(copy / "cohort.toml"):
            diffs.append("cohort.toml: the compiled cohort inputs differ")
    return diffs, short


def migrate_study(folder: str | Path, dry_run: bool = False) -> Migration:
    """Move a study folder's Table 1 from TOML rows to a table file, if that is shorter.

    Parameters
    ----------
    folder : str or Path
        A study folder (``cohort.toml``, ``targets.toml``).
    dry_run : bool
        Prove and report, write nothing.

    Returns
    -------
    Migration

    Raises
    ------
    ValueError
        When the folder's files cannot be read or its loaders refuse them (naming the
        file and key).
    """
    folder = Path(folder)
    paths = {n: folder / n for n in ("cohort.toml", "targets.toml")}
    for name, p in paths.items():
        if not p.is_file():
            raise ValueError(f"{p}: no {name} in the study folder")
    texts = {n: p.read_text("utf-8") for n, p in paths.items()}
    parsed = {}
    for name, text in texts.items():
        try:
            parsed[name] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"{paths[name]}: {e}") from None
    cohort, data = parsed["cohort.toml"], parsed["targets.toml"]
    # the readers below take the files' keys as the loaders accept them: a folder they
    # refuse (a key of another type, say) is reported as they report it, file and key
    all_ids = {t.id for t in load_targets(folder).targets}
    load_spec(paths["cohort.toml"])
    cands = _candidates(data)
    if not cands:
        return Migration(folder, "nothing to do", "targets.toml has no Table 1 rows")
    blocked = _blocked(cohort, _cohort_of(folder, cohort, cands), cands)
    cohort_of = {w: c for w, c in _cohort_of(folder, cohort, cands).items() if w not in blocked}
    waiting = tuple((c.raw["id"], blocked[c.raw["where"]]) for c in cands
                    if c.raw["where"] in blocked)
    cands = [c for c in cands if c.raw["where"] not in blocked]
    if not cands:
        return Migration(folder, "nothing to do", "; ".join(
            f"{w}: {why}" for w, why in sorted(blocked.items())), kept=waiting)
    skip: set = set()
    mute: set = set()
    while True:
        drafts = [d for d in draft_tables(cands, cohort_of, frozenset(skip), frozenset(mute))
                  if d.cohort]
        derived = _derive(drafts, cohort)
        # a printed cell the TOML form has no target for: a column mostly of such cells is
        # left undeclared (only quoted), otherwise its row's variable stays in TOML
        hits, extras = Counter(), Counter()
        for i, (d, t, key) in derived.items():
            (hits if i in all_ids else extras)[(d.where, key)] += 1
        more = {k for k in extras if extras[k] > hits[k]} - mute
        if more:
            mute |= more
            continue
        extra = {(d.where, t["term"]) for i, (d, t, _) in derived.items() if i not in all_ids}
        if not extra:
            break
        skip |= extra
    quotes = {norm(c.raw["source"]) for c in cands}
    why: dict[str, str] = {}
    for d in drafts:
        why.update(d.left_out)
    for c in cands:
        if c.raw["id"] not in derived:
            why.setdefault(c.raw["id"], "its row gives a cell or p-value targets.toml does "
                           "not have" if any(c.raw["term"] == s[1] for s in skip)
                           else "its table has no cohort")
        elif (diff := _same(derived[c.raw["id"]][1], dict(c.raw), quotes)):
            why[c.raw["id"]] = diff
    stays = {c.origin for c in cands if c.raw["id"] in why}
    gone = {c.origin for c in cands} - stays
    kept = tuple((c.raw["id"], why[c.raw["id"]] if c.raw["id"] in why else
                  "another cell of its [[baseline]] row stays") for c in cands
                 if c.origin in stays) + waiting
    if not gone:
        return Migration(folder, "nothing to do", "no Table 1 row can be given by a table "
                         "as written", kept=kept)
    files = dict(texts)
    for d in drafts:
        name = re.sub(r"[^a-z0-9]+", "", d.where.lower()) + ".tsv"
        if (folder / name).exists():
            return Migration(folder, "refused", f"{folder / name} already exists", kept=kept)
        files[name] = _tsv(d, str(raw_table(data.get("study")).get("id", folder.name)))
        files["cohort.toml"] = insert_declaration(
            files["cohort.toml"], d.cohort, _declaration(d, name),
            f"{d.where.capitalize()} as printed ({name}, written by `tacebench migrate` from "
            "the quotes of\ntargets.toml): its cells are audited targets; the generator's "
            "inputs stay the variables below.")
    files["targets.toml"] = remove_blocks(texts["targets.toml"], gone)
    moved = tuple(c.raw["id"] for c in cands if c.origin in gone)
    before = sum(_line_count(t) for t in texts.values())
    after = sum(_line_count(t) for t in files.values())
    common = dict(files=tuple(files.items()), moved=moved, kept=kept, lines_before=before,
                  lines_after=after)
    if after >= before:
        return Migration(folder, "nothing to do", f"the table form is not shorter ({before} "
                         f"-> {after} lines)", **common)
    diffs, short = _prove(folder, files)
    if diffs:
        return Migration(folder, "refused", "not equivalent", differences=tuple(diffs),
                         **common)
    if not dry_run:  # all files or none (a failure raises WriteFailed, nothing changed)
        replace_files(folder, {name: text for name, text in files.items()
                               if text != texts.get(name)})
    return Migration(folder, "would migrate" if dry_run else "migrated",
                     shortened=tuple(short), **common)
