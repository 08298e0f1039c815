"""Categorical covariates reach the benchmark methods as indicators, not as linear scores."""
import numpy as np

from tacebench.benchmarks.cohort_dgm import _generator
from tacebench.benchmarks.methods import design


def test_float_coded_categorical_named_in_levels_is_expanded():
    data = {"treated": np.array([0, 1, 0, 1, 0, 1]),
            "pvtt_type": np.array([0.0, 1.0, 2.0, 2.0, 1.0, 0.0]),
            "age": np.array([50.0, 61.0, 55.0, 70.0, 66.0, 48.0]),
            "_levels": {"pvtt_type": ("none", "I-II", "III-IV")}}
    X = design(data, ["pvtt_type", "age"])
    assert X.shape == (6, 3)
    np.testing.assert_array_equal(X[:, 0], data["pvtt_type"] == 1.0)
    np.testing.assert_array_equal(X[:, 1], data["pvtt_type"] == 2.0)
    np.testing.assert_array_equal(X[:, 2], data["age"])


def test_float_without_levels_stays_continuous():
    data = {"treated": np.array([0, 1, 0]), "albumin": np.array([35.0, 40.0, 38.0])}
    assert design(data, ["albumin"]).shape == (3, 1)


def test_simulated_cohort_expands_its_three_level_variables():
    """Seed 004's cohort has three-level pvtt_type, albi_grade and metastasis_organs."""
    from tacebench import simulate
    plan = simulate.compile_plan(simulate.load_spec("len_sora_pd1_ehm"))
    data = _generator(plan, np.array(["pvtt_type", "albi_grade", "metastasis_organs"]))(
        np.random.default_rng(1))
    X = design(data, ["*"])
    assert X.shape[1] == 6
    assert set(np.unique(X)) <= {0.0, 1.0}


def test_star_covariates_leave_out_multiselect_pattern_columns():
    """Seed 000's extrahepatic sites are a multiselect variable: ``["*"]`` takes the five
    site indicators, not also the site-pattern code that re-encodes them."""
    from tacebench.benchmarks.cohort_dgm import prepare
    from tacebench.benchmarks.study import Scenario

    scenario = Scenario(index=0, name="s000", dgm="d", generator="cohort",
                        base="tace_sorafenib_ehs", cohort="main", factors=(), methods=())
    data = prepare(scenario).generate(np.random.default_rng(3))
    covariates = list(data["_covariates"])
    assert "ehs_sites" not in covariates
    assert {"lymph_node_metastasis", "lung_metastasis", "bone_metastasis",
            "adrenal_metastasis", "other_metastasis"} <= set(covariates)
