"""docs/batch.md runs: every ```python block, in order, in one namespace (its asserts are
the page's claims: the batched replicate equals the one-at-a-time replicate)."""
from __future__ import annotations

from pathlib import Path

from tests.docs.test_walkthroughs import python_blocks

PAGE = Path(__file__).resolve().parents[2] / "docs" / "batch.md"


def test_batch_page_code_runs(capsys):
    blocks = python_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) == 3
    namespace: dict = {"__name__": "batch_page"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"batch.md[block {i + 1}]", "exec"), namespace)
    out = capsys.readouterr().out
    assert "coverage" in out and "robust_se" in out
    # the page's claim: unbiased (within 3 MCSE) and covering (95% within 3 Monte Carlo
    # SEs of a 256-replicate coverage, 0.014)
    est, truth = namespace["est"], namespace["truth"]
    mcse = est.std(ddof=1) / len(est) ** 0.5
    assert abs(est.mean() - truth) < 3 * mcse
    assert 0.95 - 3 * 0.014 < namespace["coverage"] < 0.95 + 3 * 0.014
    assert "bias -0.004 (MCSE 0.008); coverage 95.7%" in out  # the printed line quoted


def test_batch_page_aside_on_residual_confounding(capsys):
    """The page's aside: without the metastasis sites and the laboratory values (AST,
    creatinine, platelets, INR) the bias is +0.018, about two MCSE."""
    first = python_blocks(PAGE.read_text(encoding="utf-8"))[0]
    dropped = ('"lung_metastasis", "bone_metastasis", "adrenal_metastasis", "other_metastasis",',
               '"ast", "creatinine", "platelets",', '"inr"]')
    for text in dropped:
        assert text in first
        first = first.replace(text, "]" if text == '"inr"]' else "")
    exec(compile(first, "batch.md[block 1, fewer covariates]", "exec"), {"__name__": "aside"})
    assert "bias +0.018 (MCSE 0.008)" in capsys.readouterr().out
