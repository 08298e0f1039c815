"""``tacebench migrate``: a Table 1 written as TOML rows becomes a table file, proved equal.

The TOML forms come from two places: the example paper of docs/study-format.md (its
``[[baseline]]`` rows and Table-1 ``[[targets]]``, written by hand) and each shipped seed
taken back to TOML (every target its table gives written out as a ``[[targets]]`` entry
quoting the printed row, the declaration removed). Migrating must give back the same
targets, compile the same cohort, write nothing on ``--dry-run``, and have nothing left to
do when run again. A table form that would lose something is refused and writes nothing.
"""
from __future__ import annotations

import dataclasses
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from tacebench.cli import main
from tacebench.replications import migrate as migrate_module
from tacebench.replications.migrate import migrate_study, quote_change, target_differences
from tacebench.replications.migrate_toml import toml_value
from tacebench.replications.targets import load_targets
from tacebench.replications.targets.table import study_table_targets
from tacebench.simulate.table1 import read_cohort_toml
from tests.docs.test_study_format_examples import STUDY_FORMAT, example_files

SHIPPED = Path(__file__).resolve().parents[2] / "tacebench" / "studies"
STUDIES = sorted(p for p in SHIPPED.iterdir() if (p / "targets.toml").is_file())
WITH_TABLE = [p for p in STUDIES if any(p.glob("table*.tsv"))]


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text("utf-8") for p in sorted(folder.iterdir()) if p.is_file()}


NOTE = 'note = "chi-square on the two cells of the Male row"\n'


@pytest.fixture()
def example(tmp_path) -> Path:
    """The docs example study in its long form (Table 1 in TOML), one p-value with a note."""
    page = STUDY_FORMAT.read_text(encoding="utf-8")
    files = {"analysis.toml": example_files(page)["analysis.toml"],
             **example_files(page, "long form")}
    files["targets.toml"] = files["targets.toml"].replace(
        'id = "p_male_crude"\n', 'id = "p_male_crude"\n' + NOTE, 1)
    assert NOTE in files["targets.toml"]
    folder = tmp_path / "example"
    folder.mkdir()
    for name in ("cohort.toml", "targets.toml", "analysis.toml"):
        (folder / name).write_text(files[name], encoding="utf-8")
    return folder


def _toml_form(shipped: Path, dest: Path) -> Path:
    """A shipped study with its Table 1 file(s) written back as TOML ``[[targets]]``."""
    shutil.copytree(shipped, dest)
    written = {t.get("id") for t in tomllib.loads(
        (shipped / "targets.toml").read_text("utf-8")).get("targets", [])}
    derived = [t for _, t in study_table_targets(shipped) if t["id"] not in written]
    cohort = (dest / "cohort.toml").read_text("utf-8")
    cohort = re.sub(r"(?ms)^\[cohorts\.\w+\.table1\]\n.*?(?=^\s*$)", "", cohort)
    entries = ["\n[[targets]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in t.items())
               for t in derived]
    with (dest / "targets.toml").open("a", encoding="utf-8") as f:
        f.write("".join(entries))
    (dest / "cohort.toml").write_text(cohort, encoding="utf-8")
    for tsv in dest.glob("table*.tsv"):
        tsv.unlink()
    return dest


def test_the_example_moves_what_a_table_can_give_and_keeps_the_rest(example):
    before = load_targets(example)
    cohort = read_cohort_toml(example / "cohort.toml")
    result = migrate_study(example)
    assert result.status == "migrated", result.summary()
    assert (example / "table1.tsv").is_file()
    assert result.lines_after < result.lines_before
    after = load_targets(example)
    diffs, _ = target_differences(before, after)
    assert diffs == []
    assert [t.id for t in after.targets] != [] and {t.id for t in after.targets} == {
        t.id for t in before.targets}
    assert read_cohort_toml(example / "cohort.toml") == cohort
    kept = dict(result.kept)
    # a note and a role of their own are not the table's: those targets stay in TOML
    assert "note" in kept["p_male_crude"] and "role" in kept["bl_pvtt_tace_l_crude"]
    text = (example / "targets.toml").read_text("utf-8")
    assert 'id = "p_male_crude"' in text and NOTE in text
    assert re.search(r"(?m)^\[\[baseline\]\]", text) is None      # every row moved


def test_a_dry_run_writes_nothing_and_a_second_run_has_nothing_to_do(example):
    files = _files(example)
    result = migrate_study(example, dry_run=True)
    assert result.status == "would migrate"
    assert _files(example) == files
    assert migrate_study(example).status == "migrated"
    again = _files(example)
    assert migrate_study(example).status == "nothing to do"
    assert migrate_study(example, dry_run=True).status == "nothing to do"
    assert _files(example) == again


@pytest.mark.parametrize("shipped", WITH_TABLE, ids=lambda p: p.name)
def test_a_seed_taken_back_to_toml_migrates_to_the_same_targets(shipped, tmp_path):
    folder = _toml_form(shipped, tmp_path / shipped.name)
    toml_targets = load_targets(folder)
    result = migrate_study(folder)
    assert result.status == "migrated", result.summary()
    assert result.moved and result.lines_after < result.lines_before
    migrated = load_targets(folder)
    for other in (toml_targets, load_targets(shipped)):
        diffs, _ = target_differences(other, migrated)
        assert diffs == [], diffs[:5]
    assert read_cohort_toml(folder / "cohort.toml") == read_cohort_toml(shipped / "cohort.toml")
    files = _files(folder)
    assert migrate_study(folder).status == "nothing to do"
    assert _files(folder) == files


def _wrong_cell(text: str) -> str:
    return text.replace("136 (85.0)", "137 (85.6)")


def test_a_cell_the_table_would_give_differently_stays_in_toml(example, monkeypatch):
    real = migrate_module.draft_tables

    def misread(*args, **kwargs):              # one printed cell transcribed wrong
        drafts = real(*args, **kwargs)
        rows = tuple((v, lv, f, tuple(_wrong_cell(c) for c in cells))
                     for v, lv, f, cells in drafts[0].rows)
        return [dataclasses.replace(drafts[0], rows=rows)] + drafts[1:]

    monkeypatch.setattr(migrate_module, "draft_tables", misread)
    result = migrate_study(example)
    assert result.status == "migrated"
    assert "count = 137" in dict(result.kept)["bl_male_tace_crude"]
    assert "bl_male_tace_crude" not in result.moved
    # its [[baseline]] row stays whole: the other cell is kept with it
    assert 'variable = "male"' in (example / "targets.toml").read_text("utf-8")
    assert "bl_male_tace_l_crude" in dict(result.kept)


def test_a_written_table_that_loses_a_number_is_refused_and_nothing_is_written(
        example, monkeypatch):
    files = _files(example)
    real = migrate_module._tsv
    monkeypatch.setattr(migrate_module, "_tsv", lambda *a: _wrong_cell(real(*a)))
    result = migrate_study(example)
    assert result.status == "refused"
    assert any(d.startswith("bl_male_tace_crude: count 137") for d in result.differences), \
        result.differences
    assert _files(example) == files


def test_a_migration_stopped_by_a_full_disk_changes_no_file(example, monkeypatch, capsys):
    """Before, cohort.toml was rewritten and then targets.toml cut to the bytes written
    before the disk filled: the hand-written study could no longer be read."""
    from tests.engine.test_files import disk_fills_at

    files = _files(example)
    disk_fills_at(monkeypatch, example / "targets.toml")
    assert main(["migrate", str(example)]) == 1
    out = capsys.readouterr().out
    assert "cannot write targets.toml" in out and "no file was changed" in out, out
    assert _files(example) == files                    # no temporary file left either
    assert sorted(p.name for p in example.iterdir()) == sorted(files)


def test_differences_name_the_target_and_the_field(example, tmp_path):
    before = load_targets(example)
    changed = tmp_path / "changed"
    shutil.copytree(example, changed)
    text = (changed / "targets.toml").read_text("utf-8")
    (changed / "targets.toml").write_text(text.replace(NOTE, ""), "utf-8")
    diffs, _ = target_differences(before, load_targets(changed))
    assert diffs and all(d.startswith("p_male_crude: note") for d in diffs)


def test_a_quote_may_only_become_the_targets_printed_row():
    row = "Male\t136 (85.0)\t95 (86.4)\t0.75"
    assert quote_change(row, row, set()) == "same"
    assert quote_change("Male\t136 (85.0)", "Sex\nMale\t136 (85.0)", set()) == "row"
    assert quote_change(row, "Male\t136 (85.0)\t95 (86.4)", {"male 136"}) is None
    assert quote_change(row, "Male\t136 (85.0)\t95 (86.4)",
                        {"Male 136 (85.0) 95 (86.4) 0.75"}) == "full row"
    assert quote_change("Female\t27 (11%)", "Male\t136 (85.0)", set()) is None


@pytest.mark.parametrize("folder", STUDIES, ids=lambda p: p.name)
def test_the_shipped_seeds_are_migrated(folder, capsys):
    assert main(["migrate", "--dry-run", str(folder)]) == 0
    assert "nothing to do" in capsys.readouterr().out
    result = migrate_study(folder, dry_run=True)
    assert result.status == "nothing to do" and result.moved == () and result.files == ()


def test_errors_name_the_file(tmp_path, capsys):
    (tmp_path / "cohort.toml").write_text("[cohorts.main\n", encoding="utf-8")
    (tmp_path / "targets.toml").write_text('[study]\nid = "x"\n', encoding="utf-8")
    assert main(["migrate", str(tmp_path)]) == 1
    assert "cohort.toml" in capsys.readouterr().out


@pytest.mark.parametrize("key", ["targets", "baseline"])
def test_an_array_of_tables_given_a_number_is_named(example, key, capsys):
    """The readers of the files take their keys as the loaders accept them: a key of
    another type is the loaders' error, naming the file and key, not a TypeError."""
    path = example / "targets.toml"
    text = re.sub(rf"(?m)^\[\[{key}\]\]", f"[[old_{key}]]", path.read_text("utf-8"))
    path.write_text(f"{key} = 5\n" + text, encoding="utf-8")
    assert main(["migrate", str(example)]) == 1
    out = capsys.readouterr().out
    assert f"targets.toml: {key} = 5: must be an array of tables" in out


def test_a_cohort_file_the_loader_refuses_is_named(example, capsys):
    path = example / "cohort.toml"
    text = path.read_text("utf-8").replace("[cohorts.", "[old_cohorts.")   # [[...]] too
    path.write_text(text.replace("[study]", "cohorts = 5\n[study]", 1), encoding="utf-8")
    assert main(["migrate", str(example)]) == 1
    assert "cohort.toml: cohorts: at least one [cohorts.<name>] table is needed" in \
        capsys.readouterr().out
