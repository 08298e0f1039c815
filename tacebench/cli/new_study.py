"""``tacebench new-study NAME``: write a skeleton study folder with commented templates.

The folder gets ``cohort.toml``, ``targets.toml`` and ``analysis.toml`` with "FILL ME"
placeholders and commented examples; ``tacebench check`` lists the placeholders left until
the study is complete.
"""
from __future__ import annotations

import re
import sys
from importlib import resources
from pathlib import Path

from .options import HelpFormatter, plain

__all__ = ["register", "run", "write_skeleton"]

_README = """# {id}

A tacebench study folder. Fill in the three files from the paper:

1. `cohort.toml`: arms and Table 1 (one `[[cohorts.main.variables]]` per row), the outcome
   model and the per-arm results the generator is calibrated to;
2. `targets.toml`: every reported number with its quoted source and role;
3. `analysis.toml`: the paper's analyses (population, adjustment, estimates).

Then run `tacebench check {folder}` until it reports no error, and
`tacebench replicate {folder}`. The format is described in `docs/study-format.md`.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("new-study", help="write a skeleton study folder",
                              description=plain(__doc__), formatter_class=HelpFormatter)
    p.add_argument("name", help="study id: snake_case, e.g. tace_lenvatinib_2024")
    p.add_argument("--dir", default=".", help="parent folder (default: current folder)")
    p.add_argument("--force", action="store_true", help="overwrite an existing folder's files")
    p.add_argument("--from-table", metavar="TABLE1", default=None,
                   help="the paper's Table 1 as printed (TSV, or .csv): the folder gets it "
                        "as table1.tsv with its arms and columns declared in cohort.toml")
    p.set_defaults(func=run)


def write_skeleton(name: str, parent: str | Path = ".", force: bool = False,
                   from_table: str | Path | None = None) -> Path:
    """Write ``parent/name/`` with the three templates; returns the folder.

    ``from_table``: the paper's Table 1 as printed; its draft
    (:func:`replications.table_draft.draft_table`) fills the Table 1 part of cohort.toml.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name or ""):
        raise ValueError(f"name must be snake_case ([a-z][a-z0-9_]*); got {name!r}")
    folder = Path(parent) / name
    files = ("cohort.toml", "targets.toml", "analysis.toml")
    if not force and any((folder / f).exists() for f in files):
        raise ValueError(f"name: {str(folder)!r} already holds a study (use --force)")
    templates = resources.files("tacebench.replications") / "templates"
    texts = {f: (templates / f).read_text(encoding="utf-8").replace("{id}", name)
             for f in files}
    if from_table is not None:
        from tacebench.replications.table_draft import fill_table_part

        try:
            texts.update(fill_table_part(texts, from_table))
        except OSError as exc:
            raise ValueError(f"--from-table {str(from_table)!r}: cannot be read "
                             f"({exc.strerror or exc})") from None
    from tacebench.engine.files import replace_files

    texts["README.md"] = _README.format(id=name, folder=folder)
    folder.mkdir(parents=True, exist_ok=True)
    # all files or none: with --force a failing write would leave a mix of the old study
    # and the new skeleton
    replace_files(folder, texts)
    return folder


def run(args) -> int:
    try:
        folder = write_skeleton(args.name, args.dir, args.force, args.from_table)
    except ValueError as exc:
        print(f"tacebench new-study: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # (WriteFailed: no file was changed)
        print(f"tacebench new-study: {exc}", file=sys.stderr)
        return 1
    table = ", table1.tsv" if args.from_table else ""
    print(f"wrote {folder}/ (cohort.toml, targets.toml, analysis.toml{table}, README.md)")
    if args.from_table:
        from tacebench.replications.table_draft import table_ids_listing

        print(table_ids_listing(folder))
    print(f"next: fill in the FILL ME placeholders, then `tacebench check {folder}`")
    return 0
