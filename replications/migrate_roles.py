"""``tacebench migrate --roles``: give targets the roles the check's own rules give them.

The rules that keep calibration apart from prediction grow with the format: a response
rate the generator is fed, an HR it is given, a count nothing is solved for, a number the
run computes but leaves unjudged. A study folder written before a rule existed fails
``tacebench check`` on it, and where the rule itself says which role the target must have
(:class:`~replications.analysis.problems.RoleFix`), nothing is left for the author to
decide. :func:`migrate_roles` applies exactly those roles, on a copy first, checking the
copy again after each round (a new role can bring another rule into play) until no
problem carries a fix; then it writes ``targets.toml`` in one step. Each edit changes one
``role`` line and is verified by parsing (:func:`~replications.migrate_toml.
set_target_role`); comments and layout stay. A computed number made ``predicted`` is judged
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
from .migrate_toml import set_target_role

__all__ = ["RoleChange", "RoleMigration", "migrate_roles"]

#: Check rounds before giving up: each round's roles can bring rules into play that the
#: last round did not reach (a target judged now is checked as a judged one).
MAX_ROUNDS = 5


@dataclass(frozen=True)
class RoleChange:
    """One target's role, before and after, and the check's reason."""

    target: str
    before: str
    after: str
    reason: str


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
        moves: dict[tuple[str, str], list[str]] = {}
        for c in self.changes:
            moves.setdefault((c.before, c.after), []).append(c.target)
        for (before, after), ids in moves.items():
            more = f" and {len(ids) - 4} more" if len(ids) > 4 else ""
            out.append(f"  role {before} -> {after}: {len(ids)} target(s), "
                       f"{', '.join(ids[:4])}{more}")
        if any(c.after == "predicted" and c.before == "reported" for c in self.changes):
            out.append("  (a computed number is judged now; give it not_judged = \"<reason>\" "
                       "instead where the paper gives a reason not to judge it)")
        out.extend(f"  left (no role mends it): {p}" for p in self.left)
        return "\n".join(out)


def _role_of(text: str, target: str) -> str:
    for e in tomllib.loads(text).get("targets") or []:
        if isinstance(e, dict) and e.get("id") == target:
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
        When the folder has no targets.toml.
    """
    folder = Path(folder)
    path = folder / "targets.toml"
    if not path.is_file():
        raise ValueError(f"{path}: no targets.toml in the study folder")
    text = path.read_text("utf-8")
    changes: dict[str, RoleChange] = {}
    with tempfile.TemporaryDirectory(prefix="tacebench-roles-") as tmp:
        copy = Path(tmp) / folder.name
        shutil.copytree(folder, copy)
        for _ in range(MAX_ROUNDS):
            report = check_folder(copy)
            fixes = {p.fix.target: (p.fix.role, p.message)
                     for p in report.errors if p.fix is not None}
            if not fixes:
                break
            for target, (role, why) in sorted(fixes.items()):
                before = _role_of(text, target)
                if target in changes and changes[target].after != role:
                    return RoleMigration(folder, "refused", tuple(changes.values()),
                                         reason=f"the check asks {target!r} for role "
                                         f"{role!r} after giving it {changes[target].after!r}")
                try:
                    text = set_target_role(text, target, role)
                except ValueError as exc:
                    return RoleMigration(folder, "refused", tuple(changes.values()),
                                         reason=str(exc))
                first = changes.get(target)
                changes[target] = RoleChange(target, first.before if first else before,
                                             role, why)
            (copy / "targets.toml").write_text(text, "utf-8")
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
        replace_files(folder, {"targets.toml": text})
    return RoleMigration(folder, "would migrate" if dry_run else "migrated",
                         tuple(changes.values()), left)
