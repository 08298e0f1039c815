"""replicate --plot: the KM figure is a publication figure (checked by its artists, not
its pixels): the paper's arm labels, a legend, censoring ticks, numbers at risk, the band
of all replicates, the published medians marked, no internal id in the title, 300 dpi."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tacebench.api import load_study, replicate
from tacebench.replications.plots import km_curves, km_figure, plot_study

FICTIONAL = Path(__file__).parent / "fictional_study"


@pytest.fixture(scope="module")
def run():
    study = load_study(FICTIONAL)
    report = replicate(study, reps=12, seed=3, n_jobs=1, decompose_reps=0, worlds="none",
                       max_reps=12)
    return study, report.result


def test_km_figure_has_what_a_paper_figure_has(run):
    study, result = run
    sets = {(k.analysis, k.endpoint): k for k in km_curves(study, result)}
    assert set(sets) == {("crude", "os"), ("crude", "pfs")}
    kms = sets[("crude", "os")]
    assert [a.label for a in kms.arms] == ["TACE", "TACE-L"]        # cohort.toml's labels
    assert all(len(a.curves) == 12 for a in kms.arms)                # every replicate
    fig = km_figure(study, result, kms)
    ax, table = fig.axes
    title = ax.get_title(loc="left")
    assert study.title in title and study.id not in title and "crude" not in title
    assert ax.get_xlabel() == "Months" and ax.get_ylabel() == "Overall survival (probability)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "TACE: one simulated cohort (| censored)" in legend
    assert "TACE-L: 95% of 12 simulated cohorts" in legend
    assert "published median (95% CI where printed)" in legend
    ticks = [ln for ln in ax.lines if ln.get_marker() == "|" and ln.get_linestyle() == "None"]
    assert len(ticks) == 2 and all(len(ln.get_xdata()) > 0 for ln in ticks)
    assert len(ax.collections) >= 2                                   # the two bands
    medians = [c for c in ax.containers if c.lines[0].get_marker() == "o"]
    assert len(medians) == 2                                          # one per arm
    # numbers at risk at time 0 are the first replicate's analysed patients per arm
    at_zero = sorted(int(t.get_text()) for t in table.texts if t.get_position()[0] == 0)
    assert at_zero == sorted(int(a.first[0].size) for a in kms.arms)
    assert [lab.get_text() for lab in table.get_yticklabels()] == ["TACE-L", "TACE"]


def test_plot_study_writes_300_dpi_png_and_svg(run, tmp_path):
    study, result = run
    paths = plot_study(study, result, tmp_path, n_curves=3)
    assert sorted(p.suffix for p in paths) == [".png", ".png", ".svg", ".svg"]
    png = next(p for p in paths if p.suffix == ".png")
    with Image.open(png) as im:
        assert np.allclose(im.info["dpi"], 300, atol=0.5)
        assert im.size[0] >= 1500                    # about 5.8 in wide at 300 dpi
    assert next(p for p in paths if p.suffix == ".svg").read_text().lstrip().startswith("<?xml")
