"""The shared figure style: formats, resolution, reproducible vector files, markers."""
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from tacebench.engine import figure_style as style


def _fig() -> Figure:
    fig = Figure(figsize=(3, 2))
    ax, tab = fig.subplots(2, 1)
    ax.plot([0, 1], [1, 0])
    style.tidy_axes(ax)
    style.draw_risk_table(tab, np.array([0.0, 6.0]),
                          [style.RiskRow("A", style.ARM_COLORS[0], [10, 4]),
                           style.RiskRow("B", style.ARM_COLORS[1], [12, 7])])
    return fig


def test_save_writes_each_format_at_300_dpi_and_reproducible_svg(tmp_path):
    fig = _fig()
    paths = style.save_figure(fig, tmp_path / "a" / "fig.png", ("png", "svg", "pdf"))
    assert [p.name for p in paths] == ["fig.png", "fig.svg", "fig.pdf"]
    with Image.open(paths[0]) as im:
        assert np.allclose(im.info["dpi"], 300, atol=0.5)
    again = style.save_figure(fig, tmp_path / "b" / "fig", ("svg",))[0]
    assert again.read_bytes() == paths[1].read_bytes()
    with pytest.raises(ValueError, match="png, svg or pdf; got \\['jpg'\\]"):
        style.save_figure(fig, tmp_path / "x", ("jpg",))


def test_a_figure_whose_write_fails_leaves_no_cut_off_file(tmp_path, monkeypatch):
    """A full disk during savefig left a truncated PNG that reads as the figure."""
    import errno

    from tacebench.engine.files import WriteFailed

    fig = _fig()
    real = fig.savefig

    def full_disk(fname, **kw):
        real(fname, **kw)
        with open(fname, "r+b") as fh:
            fh.truncate(100)
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(fig, "savefig", full_disk)
    with pytest.raises(WriteFailed, match="fig.png"):
        style.save_figure(fig, tmp_path / "fig.png")
    assert list(tmp_path.iterdir()) == []


def test_risk_table_rows_in_the_arms_colours():
    tab = _fig().axes[1]
    texts = {(t.get_text(), t.get_color()) for t in tab.texts}
    assert ("10", style.ARM_COLORS[0]) in texts and ("7", style.ARM_COLORS[1]) in texts
    assert [t.get_text() for t in tab.get_yticklabels()] == ["B", "A"]


def test_risk_rows_compare_by_value():
    """Rows with equal counts (arrays or lists) are equal; another label, colour or count
    is not; ``==`` raises nothing."""
    counts = np.array([10.0, 7.0, np.nan])
    row = style.RiskRow("A", style.ARM_COLORS[0], counts)
    assert row == style.RiskRow("A", style.ARM_COLORS[0], counts.copy()) and not row != row
    assert row != style.RiskRow("A", style.ARM_COLORS[0], np.array([10.0, 6.0, np.nan]))
    assert row != style.RiskRow("B", style.ARM_COLORS[0], counts)
    assert row != style.RiskRow("A", style.ARM_COLORS[1], counts)
    assert row != "A" and not row == ("A", style.ARM_COLORS[0], counts)
    assert style.RiskRow("A", "k", [1.0, 2.0]) == style.RiskRow("A", "k", [1.0, 2.0])


def test_markers_follow_the_method_family():
    assert style.marker_of("weighting", 5) == style.marker_of("iptw", 0) == "s"
    assert style.marker_of("cox", 3) == "o"
    assert style.marker_of("something_else", 1) == style.MARKERS[1]


def test_save_appends_the_suffix_to_a_name_with_a_dot(tmp_path):
    """``true_hr_0.6`` lost ``.6`` to a suffix change: two figures, one file."""
    fig = _fig()
    a = style.save_figure(fig, tmp_path / "true_hr_0.6", ("png", "svg"))
    b = style.save_figure(fig, tmp_path / "true_hr_0.7", ("png",))
    assert [p.name for p in a] == ["true_hr_0.6.png", "true_hr_0.6.svg"]
    assert b[0].name == "true_hr_0.7.png"
