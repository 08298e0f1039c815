"""Study folders: loading by id or path, and no seed-specific code in the package."""
import re
from pathlib import Path

import pytest

import tacebench
from tacebench import replications
from tacebench.simulate.studies import studies_root
from tacebench.replications.analysis.problems import StudyError
from tacebench.replications.check import load_study
from tacebench.replications.study import resolve_study, shipped_studies

FICTIONAL = Path(__file__).parent / "fictional_study"
SEED_IDS = ("tace_sorafenib_ehs", "tace_regorafenib", "tace_sorafenib_matched",
            "tace_mtt_pd1_lung", "len_sora_pd1_ehm")


def test_seed_folders_ship_in_the_package():
    root = studies_root()
    assert root == Path(tacebench.__file__).parent / "studies"
    for sid in SEED_IDS:
        for f in ("cohort.toml", "targets.toml", "analysis.toml"):
            assert (root / sid / f).is_file(), f"{sid}/{f} missing"


def test_load_fictional_study_from_its_folder_alone():
    study = load_study(FICTIONAL)
    assert study.id == "fictional_tace_lenvatinib"
    assert study.plan.names == ("crude", "iptw", "psm", "multivariable", "imaging")
    assert study.schemas()["main"].arms == ("TACE", "TACE-L")
    assert study.comparative
    # a file inside the folder resolves to the folder
    assert resolve_study(FICTIONAL / "targets.toml") == FICTIONAL


def test_unknown_reference_is_a_clear_error():
    with pytest.raises(ValueError, match="neither a study folder nor a shipped study id"):
        resolve_study("no_such_study_anywhere")


def test_broken_folder_raises_one_error_listing_everything(tmp_path):
    for f in ("cohort.toml", "targets.toml", "analysis.toml"):
        (tmp_path / f).write_text((FICTIONAL / f).read_text())
    text = (tmp_path / "analysis.toml").read_text()
    (tmp_path / "analysis.toml").write_text(text.replace('method = "psm"', 'method = "pms"')
                                            .replace('"pvtt"]', '"pvtt", "albumin"]', 1))
    with pytest.raises(StudyError) as exc:
        load_study(tmp_path)
    assert len(exc.value.problems) >= 2
    assert "pms" in str(exc.value) and "albumin" in str(exc.value)


def test_no_module_names_a_seed_study():
    """The package replicates seeds from their folders: no code may special-case one."""
    root = Path(replications.__file__).parent
    pattern = re.compile("|".join(SEED_IDS))
    offenders = []
    for path in root.rglob("*.py"):
        if "studies" in path.relative_to(root).parts:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_shipped_studies_lists_complete_folders():
    ids = shipped_studies()
    assert ids == sorted(ids)
    for sid in ids:
        assert resolve_study(sid).name == sid
