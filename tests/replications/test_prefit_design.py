"""prefit's design builder: a model's matrix assembled from term blocks shared by its
leave-one-covariate-out variants is the matrix the terms build themselves."""
import numpy as np

from tacebench.replications.analysis.prefit import _design
from tacebench.replications.analysis.schema import Column, Schema
from tacebench.replications.analysis.terms import bind_terms, parse_term


def test_term_blocks_shared_by_loco_variants_build_each_variant_s_matrix():
    schema = Schema("main", {
        "age": Column("age", "continuous"), "male": Column("male", "binary"),
        "pvtt_type": Column("pvtt_type", "categorical", ("none", "I-II", "III-IV"))},
        ("TACE", "TACES"), "TACES")
    full = bind_terms([parse_term(t) for t in ("age", "male", "pvtt_type", "age>=60")],
                      schema)
    rng = np.random.default_rng(0)
    cols = {"age": rng.normal(60, 10, 30), "male": (rng.random(30) < 0.5) * 1.0,
            "pvtt_type": rng.integers(-1, 3, 30) * 1.0}
    cols["age"][3] = np.nan
    base = np.arange(2, 27)
    blocks: dict = {}
    for terms in [full] + [full.without(t) for t in full.texts]:
        got = _design(terms, cols, base, blocks)
        np.testing.assert_array_equal(got, terms.matrix(cols, base))
    assert len(blocks) == len(full.parts)       # each term's columns built once
    other = np.arange(0, 20)                    # other rows: their own blocks
    np.testing.assert_array_equal(_design(full, cols, other, blocks),
                                  full.matrix(cols, other))
    assert len(blocks) == 2 * len(full.parts)
    empty = full.without("age").without("male").without("pvtt_type").without("age>=60")
    assert _design(empty, cols, base, blocks).shape == (len(base), 0)
