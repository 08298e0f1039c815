"""``tacebench migrate --roles``: give targets (and Table 1 columns) the roles the check's
own rules give them.

The rules that keep calibration apart from prediction grow with the format: a response
rate the generator is fed, an HR it is given, a count nothing is solved for, a number the
run computes but leaves unjudged. A study folder written before a rule existed fails
``tacebench check`` on it, and where the rule itself says which role the target must have
(:class:`~replications.analysis.problems.RoleFix`), nothing is left for the author to
decide. :func:`migrate_roles` applies exactly those roles, on a copy first, checking the
copy again after each round (a new role can bring another rule into play) until no
problem carries a fix; then it writes ``targets.toml`` and ``cohort.toml`` (a Table 1
column's role) in one step. Each edit changes one role and is verified by parsing
(:func:`~replications.migrate_toml.set_target_role`, :func:`~replications.migrate_toml.
set_column_role`); comments and layout stay. A computed number made ``predicted`` is judged
from then on; an author who does not want it judged gives ``not_judged = "<reason>"``
instead, which no migration can write. Problems no role mends are listed, not touched.
"""
from __future__ import annotations

import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tacebench.engine.files import replace_files

from .check import check_folder
from .analysis.problems import RoleFix
from .migrate_toml import COLUMN_KEY, set_column_role, set_target_role

__all__ = ["RoleChange", "RoleMigration", "migrate_roles"]

#: The files a role lives in: a target's in targets.toml, a Table 1 column's in cohort.toml.
FILES = ("targets.toml", "cohort.toml")

#: Check rounds before giving up: each round's roles can bring rules into play that the
#: last round did not reach (a target judged now is checked as a judged one).
MAX_ROUNDS = 5


@dataclass(frozen=True)
class RoleChange:
    """One target's (or Table 1 column's) role, before and after, and the check's reason."""

    target: str       # a target id, or a column's cohort.toml key
    before: str
    after: str
    reason: str
    column: bool = False


@dataclass(frozen=True)
class RoleMigration:
    """What ``tacebench migrate --roles`` did (or would do) to one study folder.

    ``status`` is ``"nothing to do"``, ``"migrated"``, ``"would migrate"`` (dry run) or
    ``"refused"`` (``reason`` says why; nothing written). ``left`` are the folder's errors
    that no role mends.
    """

    folder: Path
    status: str
    changes: tuple[RoleChange, ...] = ()
    left: tuple[str, ...] = ()
    reason: str = ""

    def summary(self) -> str:
        """The report ``tacebench migrate --roles`` prints."""
        head = f"{self.folder}: {self.status}" + (f" ({self.reason})" if self.reason else "")
        out = [head]
        moves: dict[tuple[str, str, bool], list[str]] = {}
        for c in self.changes:
            moves.setdefault((c.before, c.after, c.column), []).append(c.target)
        for (before, after, column), ids in moves.items():
            more = f" and {len(ids) - 4} more" if len(ids) > 4 else ""
            what = "Table 1 column(s)" if column else "target(s)"
            out.append(f"  role {before} -> {after}: {len(ids)} {what}, "
                       f"{', '.join(ids[:4])}{more}")
        if any(c.after == "predicted" and c.before == "reported" for c in self.changes):
            out.append("  (a computed number is judged now; give it not_judged = \"<reason>\" "
                       "instead where the paper gives a reason not to judge it)")
        out.extend(f"  left (no role mends it): {p}" for p in self.left)
        return "\n".join(out)


def _role_of(texts: dict[str, str], fix: RoleFix) -> str:
    if fix.column:
        m = COLUMN_KEY.match(fix.target)
        try:
            col = tomllib.loads(texts["cohort.toml"])["cohorts"][m.group(1)]["table1"][
                "columns"][int(m.group(2))]
            return str(col.get("role", "reported"))
        except (AttributeError, KeyError, IndexError, TypeError):
            return "?"
    for e in tomllib.loads(texts["targets.toml"]).get("targets") or []:
        if isinstance(e, dict) and e.get("id") == fix.target:
            role = e.get("role", "reported")
            return role if isinstance(role, str) else repr(role)
    return "?"


def migrate_roles(folder: str | Path, dry_run: bool = False) -> RoleMigration:
    """Give every target the role the folder's check errors state for it.

    Parameters
    ----------
    folder : str or Path
        A study folder.
    dry_run : bool
        Work out and report the changes; write nothing.

    Returns
    -------
    RoleMigration

    Raises
    ------
    ValueError
        When the folder has no targets.toml or cohort.toml.
    """
    folder = Path(folder)
    for name in FILES:
        if not (folder / name).is_file():
            raise ValueError(f"{folder / name}: no {name} in the study folder")
    texts = {name: (folder / name).read_text("utf-8") for name in FILES}
    changes: dict[str, RoleChange] = {}
    with tempfile.TemporaryDirectory(prefix="tacebench-roles-") as tmp:
        copy = Path(tmp) / folder.name
        shutil.copytree(folder, copy)
        for _ in range(MAX_ROUNDS):
            report = check_folder(copy)
            fixes = {p.fix.target: (p.fix, p.message)
                     for p in report.errors if p.fix is not None}
            if not fixes:
                break
            for target, (fix, why) in sorted(fixes.items()):
                before = _role_of(texts, fix)
                if target in changes and changes[target].after != fix.role:
                    return RoleMigration(folder, "refused", tuple(changes.values()),
                                         reason=f"the check asks {target!r} for role "
                                         f"{fix.role!r} after giving it "
                                         f"{changes[target].after!r}")
                name = "cohort.toml" if fix.column else "targets.toml"
                edit = set_column_role if fix.column else set_target_role
                try:
                    texts[name] = edit(texts[name], target, fix.role)
                except ValueError as exc:
                    return RoleMigration(folder, "refused", tuple(changes.values()),
                                         reason=str(exc))
                first = changes.get(target)
                changes[target] = RoleChange(target, first.before if first else before,
                                             fix.role, why, fix.column)
            for name, text in texts.items():
                (copy / name).write_text(text, "utf-8")
        else:
            report = check_folder(copy)
            if any(p.fix is not None for p in report.errors):
                return RoleMigration(folder, "refused", tuple(changes.values()),
                                     reason=f"role fixes still asked after {MAX_ROUNDS} rounds")
        # (messages name the user's folder, not the copy checked)
        left = tuple(str(p).replace(str(copy), str(folder)) for p in report.errors)
    if not changes:
        return RoleMigration(folder, "nothing to do", left=left)
    if not dry_run:
        originals = {name: (folder / name).read_text("utf-8") for name in FILES}
        replace_files(folder, {n: t for n, t in texts.items() if t != originals[n]})
    return RoleMigration(folder, "would migrate" if dry_run else "migrated",
                         tuple(changes.values()), left)
