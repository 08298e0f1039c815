"""``tacebench migrate STUDY_DIR``: give a study's Table 1 as a printed table file;
``tacebench migrate --roles STUDY_DIR``: give targets the roles check's rules state.

Rebuilds the Table 1 written as ``[[baseline]]`` rows and Table-1 ``[[targets]]`` of
targets.toml as table1.tsv (one file per baseline table: ``table 3`` -> table3.tsv) from
their quotes, declares it in cohort.toml and removes the entries the table now gives, only
when the result is shorter and equivalent: before writing it proves, on a copy, that the
compiled cohort inputs and the targets (ids, values, roles, every other field) are the
same, quotes being the same text or the target's own row cut from a longer quote.
Otherwise it refuses and lists the differences. Targets the table cannot give as written
stay in targets.toml. The files are changed together or not at all (a full disk leaves
them as they were). ``--dry-run`` proves and reports, and writes nothing. Exit status 1
if a folder is refused, cannot be read or cannot be written.

With ``--roles`` it does something else: a folder written before one of check's role
rules existed (a number the generator is fed or given must be a calibration target; a
count nothing is fitted to must not be; a number the run computes is judged unless the
folder says why not) gets the roles those rules state, checked again after each change,
and nothing else. A computed number it makes ``predicted`` can instead be given
``not_judged = "<reason>"`` by hand. Errors no role mends are listed; exit status 1 if
any is left.
"""
from __future__ import annotations

from .options import HelpFormatter, plain

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = subparsers.add_parser("migrate", help="move a study's Table 1 from TOML rows to "
                              "table1.tsv (proved equivalent first); --roles: give "
                              "targets the roles check's rules state",
                              description=plain(__doc__), formatter_class=HelpFormatter)
    p.add_argument("studies", nargs="+", metavar="STUDY_DIR", help="study folders to migrate")
    p.add_argument("--dry-run", action="store_true",
                   help="prove and report what would change; write nothing")
    p.add_argument("--roles", action="store_true",
                   help="instead: give targets the roles check's errors state for them")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from tacebench.engine.files import WriteFailed
    from tacebench.replications.migrate import migrate_study
    from tacebench.replications.migrate_roles import migrate_roles

    status = 0
    for ref in args.studies:
        folder = Path(ref)
        if not folder.is_dir():
            print(f"{ref}: not a study folder")
            status = 1
            continue
        try:
            result = (migrate_roles if args.roles else migrate_study)(folder,
                                                                      dry_run=args.dry_run)
        except (ValueError, WriteFailed) as exc:  # (WriteFailed: nothing was changed)
            print(f"{ref}: {exc}")
            status = 1
            continue
        print(result.summary())
        left = result.left if args.roles else ()     # errors no role mends
        status = max(status, int(result.status == "refused" or bool(left)))
    return status
