"""study summarize --plot: figures checked by their artists, not their pixels."""
import numpy as np
import pandas as pd
from PIL import Image

from tacebench.benchmarks.plots import love_figure, performance_figure, zip_figure
from tacebench.engine.figure_style import save_figure

SCENARIOS = [f"dgm[a={k},b=2.0]" for k in range(7)]
METHODS = {"crude_cox": "cox", "iptw_ate": "weighting", "psm": "matching", "psm_b": "matching"}


def _perf() -> pd.DataFrame:
    rows = [(s, m, "bias", 0.01 * k, 0.005) for s in SCENARIOS
            for k, m in enumerate(METHODS)]
    return pd.DataFrame(rows, columns=["scenario", "method", "measure", "value", "mcse"])


def test_performance_is_faceted_by_scenario_with_a_marker_per_family(tmp_path):
    fig = performance_figure(_perf(), "bias", SCENARIOS, METHODS)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == len(SCENARIOS)
    assert [ax.get_title() for ax in panels[:1]] == ["dgm\na=0, b=2.0"]
    assert [t.get_text() for t in panels[0].get_yticklabels()] == list(METHODS)
    markers = {c.lines[0].get_marker() for c in panels[0].containers}
    assert len(markers) == 3                                  # cox, weighting, matching
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["cox", "weighting", "matching"]        # one entry per family
    assert "Bias" in fig.get_supxlabel()
    assert fig.get_figwidth() <= 11 and fig.get_figheight() <= 11.7   # a printed page
    png = save_figure(fig, tmp_path / "perf", ("png", "svg", "pdf"))
    assert [p.suffix for p in png] == [".png", ".svg", ".pdf"]
    with Image.open(png[0]) as im:
        assert np.allclose(im.info["dpi"], 300, atol=0.5)


def _results() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for m in METHODS:
        est = rng.normal(0, 0.1, 40)
        rows.append(pd.DataFrame({
            "scenario": SCENARIOS[0], "method": m, "estimand": "e", "converged": True,
            "estimate": est, "se": 0.1, "ci_lower": np.nan, "ci_upper": np.nan,
            "x_smd_age": 0.3 if METHODS[m] == "cox" else 0.05, "x_smd_pvtt": 0.2}))
    return pd.concat(rows, ignore_index=True)


def test_zip_plots_label_both_axes():
    fig = zip_figure(_results(), {(SCENARIOS[0], "e"): 0.0}, SCENARIOS[0], 0.95)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert all(ax.get_xlabel() for ax in shown)
    assert shown[0].get_ylabel() == "fractional centile of |z|"


def test_love_plot_calls_the_unweighted_series_unadjusted():
    fig = love_figure(_results(), SCENARIOS[0], METHODS)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["unadjusted (as generated)", "iptw_ate", "psm", "psm_b"]
    assert not any("crude_cox" in t for t in labels)


def test_two_scenarios_never_share_a_figure_file(tmp_path):
    """``dgm[hr=1.0,n=38]`` and ``dgm[hr=1.0,n=150]`` both wrote ``zip_dgm_hr_1.png``
    (the slug kept the dot, the save cut at it); a long name lost its tail at the cut."""
    from types import SimpleNamespace

    from tacebench.benchmarks.plots import _slug, write_figures

    long = "dgm_" + "a_long_scenario_name_" * 4 + "[hr=0.5"
    names = ["dgm[hr=1.0,n=38]", "dgm[hr=1.0,n=150]", "dgm[hr=0.6]", "dgm[hr=0_6]",
             long + ",n=38]", long + ",n=150]"]
    results = pd.concat([_results().assign(scenario=s) for s in names], ignore_index=True)
    study = SimpleNamespace(scenarios=[SimpleNamespace(name=s) for s in names],
                            methods=[SimpleNamespace(name=m, family=f) for m, f in METHODS.items()],
                            level=0.95)
    truths = pd.DataFrame({"scenario": names, "estimand": "e", "truth": 0.0})
    out = write_figures(study, _perf().iloc[:0], results, truths, tmp_path, formats=("png",))
    paths = [out[f"zip_{s}"] for s in names] + [out[f"love_{s}"] for s in names]
    assert len(set(paths)) == len(paths) and all(p.is_file() for p in paths)
    assert all("." not in p.stem and len(p.stem) <= 80 for p in paths)
    assert _slug("zip_dgm[hr=0.6]") == "zip_dgm_hr_0p6"
