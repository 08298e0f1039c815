"""The memory a stack of drawn cohorts takes (:mod:`simulate.footprint`)."""
from __future__ import annotations

import pytest

from tacebench import simulate_cohorts
from tacebench.cli import main
from tacebench.simulate import SpecError, load_spec
from tacebench.simulate.footprint import MEMORY_LIMIT, check_memory, draw_footprint, too_large

COHORT = """[study]
id = "big"

[[cohorts.main.arms]]
label = "A"
n = {n}
[[cohorts.main.arms]]
label = "B"
n = {n}
treated = true

[[cohorts.main.variables]]
name = "male"
type = "binary"
arms.A = {{ p = 0.8 }}
arms.B = {{ p = 0.7 }}
"""


@pytest.fixture
def big(tmp_path):
    """Two arms of 5 million patients: 4 columns + 3 work arrays, 560 MB per cohort."""
    (tmp_path / "cohort.toml").write_text(COHORT.format(n=5_000_000), encoding="utf-8")
    return tmp_path / "cohort.toml"


def test_the_estimate_counts_the_drawn_columns_and_the_stack(big):
    c = load_spec(big).cohort()
    f = draw_footprint(c, 3)
    assert (f.patients, f.columns, f.stack) == (10_000_000, 4, 3)
    assert f.bytes == 3 * 10_000_000 * (4 + 3) * 8 < MEMORY_LIMIT
    assert too_large(f) is None and too_large(draw_footprint(c, 4)) is not None

def test_one_cohort_of_the_same_size_passes_the_check(big):
    check_memory(load_spec(big).cohort(), 1)      # (not drawn: 10 million rows)


# --------------------------------------------- the simulate doors refuse with the message

def test_simulate_cohorts_refuses_before_drawing(big):
    with pytest.raises(SpecError) as e:
        simulate_cohorts(big, n_cohorts=4)
    msg = str(e.value)
    # one cohort fits: the number of cohorts is at fault, not the arms of cohort.toml
    assert msg.startswith("n_cohorts: 4 cohorts of 10,000,000 patients with 4 columns are "
                          "drawn at once")
    assert "above the limit of 2 GB" in msg and "at most 3 cohorts of this size" in msg
    assert "arms" not in msg


def test_a_cohort_too_large_alone_blames_its_arms(tmp_path):
    """A billion cohorts of the 38-patient regorafenib study were told to 'give the arms'
    `n` as the paper reports them (at most about 0 patients)'."""
    (tmp_path / "cohort.toml").write_text(COHORT.format(n=50_000_000), encoding="utf-8")
    with pytest.raises(SpecError) as e:
        simulate_cohorts(tmp_path / "cohort.toml", n_cohorts=1)
    assert str(e.value).startswith("cohorts.main.arms: 100,000,000 patients")
    with pytest.raises(SpecError, match=r"^n_cohorts: 1,000,000,000 cohorts of 38 patients"):
        simulate_cohorts("tace_regorafenib", n_cohorts=10**9)

def test_the_command_refuses_with_the_message(big, capsys):
    assert main(["simulate", str(big), "--n-cohorts", "4", "--no-ps"]) == 2
    err = capsys.readouterr().err
    assert "10,000,000 patients with 4 columns" in err and "limit of 2 GB" in err
    assert "n_cohorts: 4 cohorts" in err
