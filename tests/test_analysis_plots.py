"""Part IV's figure functions each return a Figure that renders to PNG on its own, and refuse mismatched input."""

import numpy as np
import pytest
import torch
from figure_content import assert_shows_something, bar_lengths, images, line_data, panels, tick_texts
from glassbox.plots import analysis as plots
from glassbox.plots.core import MIN_POINTS, clipped_text, smallest_text
from matplotlib.figure import Figure


def renders(fig: Figure) -> bool:
    assert_shows_something(fig)  # an empty figure renders too: it must fail here
    png = fig._repr_png_()
    return isinstance(fig, Figure) and png.startswith(b"\x89PNG") and len(png) < 300_000


def test_part4_figures_render():
    grid = torch.rand(2, 4)
    pattern = torch.rand(6, 6).tril().softmax(-1)
    assert renders(plots.head_scores({"a": grid, "b": grid}))
    assert renders(plots.attention_patterns([pattern, pattern], ["x", "y"], labels=list("abcdef")))
    assert renders(plots.matrix(torch.randn(5, 5), title="t", xlabel="x", ylabel="y"))
    assert renders(plots.matrices({"a": torch.randn(5, 5), "b": torch.randn(5, 5)}, xlabel="x", ylabel="y"))
    assert renders(plots.ranked_bars(["a", "b", "c"], torch.tensor([0.5, -0.2, 0.1]), xlabel="effect"))
    assert renders(
        plots.phase_change(
            [0, 10, 20], {"loss": [3.0, 2.0, 1.0]}, {"score": [0.1, 0.5, 0.9]}, uniform_loss=3.0, mark=10
        )
    )
    assert renders(plots.layer_position_grid(torch.randn(2, 6), title="t", labels=list("abcdef")))
    assert renders(plots.lines([0, 1, 2], {"a": [1.0, 2.0, 3.0]}, xlabel="x", ylabel="y", xticks=["p", "q", "r"]))


def test_part4_figures_draw_their_input():
    """What each figure shows is its input: the heatmaps' arrays, the bars' lengths, the curves' points, one panel
    per item, the labels asked for."""
    grids = {"a": torch.rand(2, 4), "b": torch.rand(2, 4)}
    fig = plots.head_scores(grids)
    assert len(panels(fig)) == 2
    for drawn, grid in zip(images(fig), grids.values(), strict=True):
        np.testing.assert_allclose(drawn, grid.numpy(), rtol=1e-6)
    patterns = [torch.rand(6, 6).tril().softmax(-1) for _ in range(3)]
    fig = plots.attention_patterns(patterns, ["x", "y", "z"], labels=list("abcdef"))
    assert len(panels(fig)) == 3 and [ax.get_title() for ax in panels(fig)] == ["x", "y", "z"]
    for drawn, pattern in zip(images(fig), patterns, strict=True):
        np.testing.assert_allclose(drawn, pattern.numpy(), rtol=1e-6)
    m = torch.randn(5, 5)
    fig = plots.matrix(m, title="t", xlabel="x", ylabel="y")
    (ax,) = panels(fig)
    np.testing.assert_allclose(images(fig)[0], m.numpy(), rtol=1e-6)
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("t", "x", "y")
    fig = plots.matrices({"a": m, "b": 2 * m}, xlabel="x", ylabel="y")
    assert len(panels(fig)) == 2
    np.testing.assert_allclose(images(fig)[1], 2 * m.numpy(), rtol=1e-6)
    fig = plots.ranked_bars(["a", "b", "c"], torch.tensor([0.5, -0.2, 0.1]), xlabel="effect")
    (ax,) = panels(fig)
    assert dict(zip(tick_texts(ax, "y"), bar_lengths(ax), strict=True)) == pytest.approx(
        {"a": 0.5, "b": -0.2, "c": 0.1}
    )
    assert ax.get_xlabel() == "effect"
    grid = torch.randn(2, 6)
    fig = plots.layer_position_grid(grid, title="t", labels=list("abcdef"))
    np.testing.assert_allclose(images(fig)[0], grid.numpy(), rtol=1e-6)
    assert tick_texts(panels(fig)[0], "x") == list("abcdef")
    fig = plots.lines([0, 1, 2], {"a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 0.0]}, xlabel="x", ylabel="y")
    curves = [y.tolist() for x, y in line_data(panels(fig)[0]) if x.tolist() == [0, 1, 2]]
    assert [1.0, 2.0, 3.0] in curves and [3.0, 1.0, 0.0] in curves


def test_mismatched_inputs_are_value_errors():
    with pytest.raises(ValueError, match="one title per pattern"):
        plots.attention_patterns([torch.eye(3)], ["a", "b"])
    with pytest.raises(ValueError, match="one value per name"):
        plots.ranked_bars(["a"], torch.tensor([1.0, 2.0]), xlabel="x")
    with pytest.raises(ValueError, match="at least one"):
        plots.head_scores({})


def test_ranked_bars_draws_every_item():
    names = [f"p{i}" for i in range(26)]
    fig = plots.ranked_bars(names, torch.linspace(1, -1, 26), xlabel="x")
    shown = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert shown == names, "ranked_bars must draw every item, not only the largest"


def test_head_scores_labels_rows_and_columns_as_told():
    fig = plots.head_scores(
        {"c": torch.rand(3, 3)}, row_labels=["L0H0", "L0H1", "L0H2"], col_labels=["a", "b", "c"], ylabel="layer-0 head"
    )
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["L0H0", "L0H1", "L0H2"]
    assert ax.get_ylabel() == "layer-0 head"
    with pytest.raises(ValueError, match="row and"):
        plots.head_scores({"c": torch.rand(3, 3)}, row_labels=["a"])


def test_part4_figures_are_legible_at_the_size_the_page_shows_them():
    """The chapters' largest cases (four heads, 40-character patterns, three matrices, 26 ranked paths, 30
    positions): every text at least `MIN_POINTS` once the page has scaled the figure to its content column."""
    heads = {name: torch.rand(2, 4) for name in ("entropy", "previous", "induction")}
    pattern = torch.rand(40, 40).tril().softmax(-1)
    figures = {
        "head_scores": plots.head_scores(heads),
        "head × head": plots.head_scores({"a": torch.rand(4, 4), "b": torch.rand(4, 4)}, ylabel="head"),
        "attention_patterns": plots.attention_patterns([pattern] * 4, ["a", "b", "c", "d"], labels=list("x" * 40)),
        "matrices": plots.matrices(
            {k: torch.randn(64, 64) for k in ("L0H3: softmax of positional QK", "L1H0: full OV", "L1H0 through L0H3")},
            xlabel=["key position", "output token", "key's previous token"],
            ylabel=["query position", "token", "query token"],
        ),
        "ranked_bars": plots.ranked_bars([f"path {i}" for i in range(26)], torch.randn(26), xlabel="x"),
        "layer_position_grid": plots.layer_position_grid(torch.randn(3, 30), title="t", labels=list("y" * 30)),
        "phase_change": plots.phase_change([0, 1], {"l": [2.0, 1.0]}, {"s": [0.0, 1.0]}, uniform_loss=2.0),
        "lines": plots.lines([0, 1, 2], {"a": [1.0, 2.0, 3.0]}, xlabel="x", ylabel="y"),
    }
    for name, fig in figures.items():
        size, text = smallest_text(fig)
        assert size >= MIN_POINTS, f"{name}: {text!r} is {size:.1f} pt on the page"
        assert not clipped_text(fig), f"{name}: cut off at the figure's edge: {clipped_text(fig)}"


def test_many_panels_wrap_two_to_a_row_or_three_when_short():
    fig = plots.attention_patterns([torch.eye(20)] * 3, ["a", "b", "c"])
    rows = sorted({round(ax.get_position().y0, 2) for ax in fig.axes})
    assert len(fig.axes) == 3 and len(rows) == 2, "three panels: two in the first row, one in the second"
    fig = plots.attention_patterns([torch.eye(6)] * 12, [f"L0H{h}" for h in range(12)], labels=list("abcdef"))
    rows = sorted({round(ax.get_position().y0, 2) for ax in fig.axes})
    assert len(rows) == 4, "GPT-2's twelve heads on six tokens: three to a row"
    assert smallest_text(fig)[0] >= MIN_POINTS and not clipped_text(fig)
