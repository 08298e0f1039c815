"""``tacebench migrate --roles``: a folder that predates a role rule gets the roles the rule
states, and nothing else.

The shipped regorafenib folder stands in for an earlier one: a calibration target written
as ``predicted`` (before check required the role) and a computed follow-up median without
its ``not_judged`` reason (before the reason existed). The migration must give back the
calibration role, judge the follow-up median, leave every other key and comment as it was,
write nothing on ``--dry-run``, and list the errors no role mends.
"""
from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from tacebench.cli import main
from tacebench.replications.check import check_folder
from tacebench.replications.migrate_roles import migrate_roles
from tacebench.replications.migrate_toml import set_target_role

STUDY = Path(__file__).resolve().parents[2] / "tacebench" / "studies" / "tace_regorafenib"
CALIBRATED = "pfs_median_tace_regorafenib_crude"
FOLLOWUP = "followup_median_tace_regorafenib_crude"


def _entry(text: str, tid: str) -> dict:
    return next(e for e in tomllib.loads(text)["targets"] if e["id"] == tid)


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> Path:
    """The folder as a study author wrote it before the two rules."""
    folder = tmp_path_factory.mktemp("earlier") / STUDY.name
    shutil.copytree(STUDY, folder)
    path = folder / "targets.toml"
    text = set_target_role(path.read_text("utf-8"), CALIBRATED, "predicted")
    head, _, tail = text.partition(f'id = "{FOLLOWUP}"')
    lines = tail.split("\n")
    at = next(i for i, ln in enumerate(lines) if ln.startswith("not_judged"))
    path.write_text(head + f'id = "{FOLLOWUP}"' + "\n".join(lines[:at] + lines[at + 1:]),
                    "utf-8")
    return folder


def test_the_earlier_folder_fails_check_with_fixes(earlier):
    fixes = {p.fix.target: p.fix.role for p in check_folder(earlier).errors if p.fix}
    assert fixes == {CALIBRATED: "calibration", FOLLOWUP: "predicted"}


def test_dry_run_reports_and_writes_nothing(earlier):
    before = (earlier / "targets.toml").read_text("utf-8")
    result = migrate_roles(earlier, dry_run=True)
    assert result.status == "would migrate"
    assert (earlier / "targets.toml").read_text("utf-8") == before


def test_roles_become_what_check_states_and_nothing_else(earlier, tmp_path):
    folder = tmp_path / earlier.name
    shutil.copytree(earlier, folder)
    before = (folder / "targets.toml").read_text("utf-8")
    result = migrate_roles(folder)
    assert result.status == "migrated" and not result.left
    assert {(c.target, c.before, c.after) for c in result.changes} == {
        (CALIBRATED, "predicted", "calibration"), (FOLLOWUP, "reported", "predicted")}
    after = (folder / "targets.toml").read_text("utf-8")
    assert check_folder(folder).ok
    old, new = tomllib.loads(before), tomllib.loads(after)
    for e in old["targets"]:
        if e["id"] in (CALIBRATED, FOLLOWUP):
            e["role"] = {CALIBRATED: "calibration", FOLLOWUP: "predicted"}[e["id"]]
    assert new == old
    # comments and layout kept: the texts differ in the two role lines only
    changed = [(a, b) for a, b in zip(before.split("\n"), after.split("\n")) if a != b]
    assert len(changed) == 2 and all(a.startswith("role") for a, _ in changed)
    assert migrate_roles(folder).status == "nothing to do"


def test_an_error_no_role_mends_is_listed_and_fails_the_command(earlier, tmp_path, capsys):
    folder = tmp_path / earlier.name
    shutil.copytree(earlier, folder)
    path = folder / "targets.toml"
    path.write_text(path.read_text("utf-8") + '\n[[targets]]\nid = "extra"\nanalysis = '
                    '"no_such_analysis"\nquantity = "km_median"\nendpoint = "os"\n'
                    'value = 1.0\nrole = "reported"\n', "utf-8")
    assert main(["migrate", "--roles", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "left (no role mends it)" in out and "(extra)" in out
    assert f"{folder}{'/'}targets.toml" in out and "tacebench-roles-" not in out


def test_set_target_role_adds_a_missing_role_and_refuses_an_unknown_id():
    text = '# lead\n[[targets]]\nid = "a"\nvalue = 1\n\n[[targets]]\nid = "b"\nrole = "reported"  # kept\n'
    new = set_target_role(text, "a", "predicted")
    assert _entry(new, "a")["role"] == "predicted" and new.startswith("# lead\n")
    assert 'role = "calibration"  # kept' in set_target_role(text, "b", "calibration")
    with pytest.raises(ValueError, match="'c'"):
        set_target_role(text, "c", "predicted")


def test_a_computed_table1_column_left_reported_is_judged(tmp_path):
    """Seed 004's matched Sora+PD-1 column without its role: check's one error for the
    column carries the fix, and the migration gives the column back its role = "predicted"
    in cohort.toml, that line only."""
    from tacebench.simulate.studies import resolve_study

    folder = tmp_path / "len"
    shutil.copytree(resolve_study("len_sora_pd1_ehm"), folder)
    path = folder / "cohort.toml"
    shipped = path.read_text("utf-8")
    line = '{ column = "Sora+PD-1 (n=82)", arm = "Sora+PD-1", analysis = "psm", role = "predicted" }'
    assert line in shipped
    path.write_text(shipped.replace(line, line.replace(', role = "predicted"', "")), "utf-8")
    (fix,) = [p.fix for p in check_folder(folder).errors]
    assert fix.column and fix.role == "predicted"
    result = migrate_roles(folder)
    assert result.status == "migrated" and not result.left
    assert [(c.target, c.before, c.after, c.column) for c in result.changes] == [
        (fix.target, "reported", "predicted", True)]
    assert path.read_text("utf-8") == shipped
    assert "1 Table 1 column(s)" in result.summary()
