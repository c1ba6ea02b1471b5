"""Part III's planar figures as the chapters call them: none taller than a screen (10 in, shown at most ~1,000 px
tall), the argmax maps' region names each inside its own region, and the with/without-MLP landscapes (chapter 6's
"What the MLP adds") drawn from the model's own read-out with the MLP zeroed."""

import numpy as np
import pytest
import torch
from glassbox import rules
from glassbox.analysis import planar
from glassbox.model import Transformer
from glassbox.plots import planar as g
from glassbox.plots import planar_views as views
from glassbox.plots.core import MIN_POINTS, clipped_text, smallest_text
from glassbox.plots.planar import argmax_maps
from glassbox.plots.planar.labels import _Placer
from glassbox.train import TrainConfig

pytestmark = pytest.mark.slow  # trains a Part III model for a few steps

SCREEN_INCHES = 10.0  # drawn 7 in wide at 200 dpi and shown at 700 px: 10 in is ~1,000 px on the page


@pytest.fixture(scope="module")
def run():
    recipe = rules.Recipe(16, TrainConfig(steps=4, eval_every=2, eval_batches=1, checkpoint_every=1, progress=False))
    return rules.train_rule("plus_last_even", recipe)


def chapter_figures(run) -> dict:
    """Every planar figure chapters 6, 6b and 7 draw, called as the chapter calls it."""
    model, rule = run.model, run.rule
    windows, continuations = rules.demo_windows(run)
    last_plus = max(p for p, t in enumerate(windows[0]) if t == rule.plus) if rule.plus in windows[0] else 0
    return {
        "architecture": lambda: g.architecture(Transformer(model.cfg)),
        "learning_curve": lambda: g.learning_curve(run.history),
        "training_data": lambda: g.training_data(rule, run.data.train[:6]),
        "embeddings": lambda: g.embeddings(model, rule),
        "embedding_scatter": lambda: g.embedding_scatter(model, rule),
        "output_landscape": lambda: g.output_landscape(model, rule),
        "landscape_summary": lambda: g.landscape_summary(model, rule),
        "qkv_transforms": lambda: g.qkv_transforms(model, rule),
        "qk_space": lambda: g.qk_space(model, rule),
        "qk_focus": lambda: g.qk_focus(model, rule, rule.plus, 5),
        "plus_score_row": lambda: g.plus_score_row(model, rule),
        "score_grid": lambda: g.score_grid(model, rule),
        "output_landscape_values": lambda: g.output_landscape(model, rule, values=True),
        "sequence_embeddings": lambda: g.sequence_embeddings(model, rule, windows[0]),
        "qk_attention": lambda: g.qk_attention(model, rule, windows[:1]),
        "value_output": lambda: g.value_output(model, rule, windows[:1]),
        "residual_stream": lambda: g.residual_stream(model, rule, windows[:1], continuations[:1]),
        "landscape_summary_window": lambda: g.landscape_summary(model, rule, windows[1], continuations[1]),
        **{
            f"value_demo_{stage}": lambda stage=stage: g.value_demo(
                model, rule, windows[0], continuations[0], stage=stage
            )
            for stage in g.VALUE_DEMO_STAGES
        },
        "mlp_landscapes": lambda: g.mlp_landscapes(model, rule),
        "qkv_per_dimension": lambda: views.qkv_per_dimension(model, rule),
        "qkv_overview": lambda: views.qkv_overview(model, rule, windows[0]),
        "attention_matrix": lambda: views.attention_matrix(model, rule, windows),
        "frozen_output": lambda: views.frozen_output(model, rule, windows[0], last_plus),
        "query_gradients": lambda: views.query_gradients(model, rule, windows[0]),
    }


def test_no_chapter_figure_is_taller_than_a_screen(run):
    """Figures 45 (qkv overview, was 12.5 in) and 48 (query gradients, was 11.6 in) among them."""
    for name, draw in chapter_figures(run).items():
        fig = draw()
        width, height = fig.get_size_inches()
        assert height <= SCREEN_INCHES, f"{name} is {height:.2f} in tall: more than a screen at {width:.1f} in wide"


def test_the_relaid_figures_stay_legible(run):
    window = rules.demo_windows(run)[0][0]
    for name, fig in (
        ("qkv_overview", views.qkv_overview(run.model, run.rule, window)),
        ("query_gradients", views.query_gradients(run.model, run.rule, window)),
        ("mlp_landscapes", g.mlp_landscapes(run.model, run.rule)),
    ):
        size, text = smallest_text(fig)
        assert size >= MIN_POINTS, f"{name}: {text!r} is {size:.1f} pt on the page"
        assert not clipped_text(fig), f"{name}: cut off at the figure's edge: {clipped_text(fig)}"


def _region_names(ax) -> list[tuple[str, tuple[float, float]]]:
    """Every region name "→ t" of an argmax map's axes with the point it names: a text's own position, or a placed
    label's anchor (a thin region's name stands beside it, with a leader line)."""
    fig = ax.figure
    fig.draw_without_rendering()  # the label placer runs at draw time
    names = [
        (t.get_text(), t.get_position()) for t in ax.texts if t.get_text().startswith("→ ") and not hasattr(t, "xy")
    ]
    for artist in ax.artists:
        if isinstance(artist, _Placer):
            names += [(a.get_text(), tuple(a.xy)) for a in artist.labels if a.get_text().startswith("→ ")]
    return names


def _token_at(ax, point) -> int:
    """The token of the argmax map drawn on `ax` (its pcolormesh of token indices) at `point`."""
    mesh = ax.collections[0]
    xs, ys = (np.unique(mesh.get_coordinates()[..., k]) for k in (0, 1))  # the cells' edges
    best = np.asarray(mesh.get_array()).reshape(len(ys) - 1, len(xs) - 1)
    col = np.clip(np.searchsorted(xs, point[0]) - 1, 0, len(xs) - 2)
    row = np.clip(np.searchsorted(ys, point[1]) - 1, 0, len(ys) - 2)
    return int(best[row, col])


def test_every_region_name_stands_in_its_own_region(run):
    """Figures 22 and 33 and the with/without-MLP maps: each "→ t" names a point of t's region (a name placed at the
    median row and the median column separately fell in a neighbour's band)."""
    window, full = rules.demo_windows(run)
    figures = {
        "summary": g.landscape_summary(run.model, run.rule),
        "summary with a window": g.landscape_summary(run.model, run.rule, window[1], full[1]),
    }
    mlp = g.mlp_landscapes(run.model, run.rule)
    maps = [(name, fig.axes[0]) for name, fig in figures.items()]
    maps += [("with the MLP", mlp.axes[0]), ("without the MLP", mlp.axes[1])]
    vocab = list(run.rule.vocab)
    for name, ax in maps:
        names = _region_names(ax)
        assert names, f"{name}: no region named"
        for text, point in names:
            token = vocab.index(text.removeprefix("→ "))
            assert _token_at(ax, point) == token, f"{name}: {text} names a point of {vocab[_token_at(ax, point)]}"


def test_region_names_fall_inside_a_bent_band():
    """A V-shaped band: its median row and median column meet outside it; the chosen point is inside, with the whole
    label's box in the band, and off the markers when there is room."""
    xs = ys = np.linspace(-1, 1, 121)
    X, Y = np.meshgrid(xs, ys)
    best = np.where(np.abs(Y - 0.3 - np.abs(X)) < 0.12, 1, 0)  # 1: a V whose arms rise from (0, 0.3)
    best[(Y > 0.3 + np.abs(X) + 0.12)] = 2  # 2: inside the V
    rows, cols = np.nonzero(best == 1)
    assert best[int(np.median(rows)), int(np.median(cols))] != 1, "the old rule's point misses the band"
    points = argmax_maps.region_label_points(best, xs, ys, {0: (0.2, 0.06), 1: (0.2, 0.06), 2: (0.2, 0.06)})
    assert set(points) == {0, 1, 2}
    for token, (x, y, _) in points.items():
        assert best[np.abs(ys - y).argmin(), np.abs(xs - x).argmin()] == token
    x, y, scale = points[1]
    box = (np.abs(X - x) <= 0.1) & (np.abs(Y - y) <= 0.03)
    assert scale >= 1 and (best[box] == 1).all(), "the band's name fits inside it, clear of its edges"
    marker = np.array([[x, y]])
    moved = argmax_maps.region_label_points(best, xs, ys, {1: (0.2, 0.06)}, marker, (0.1, 0.1))[1]
    assert np.hypot(moved[0] - x, moved[1] - y) > 0.05, "a marker on the spot moves the name off it"
    assert best[np.abs(ys - moved[1]).argmin(), np.abs(xs - moved[0]).argmin()] == 1


def test_mlp_landscapes_draw_both_read_outs(run):
    """Two maps side by side with a title each, 7 in wide and at most 4 in tall, on an untrained model too; the
    right one is the model's own read-out with the MLP zeroed (`planar.without_mlp` in the forward pass)."""
    for model in (Transformer(run.model.cfg), run.model):
        fig = g.mlp_landscapes(model, run.rule)
        axes = [ax for ax in fig.axes if ax.collections]
        assert len(axes) == 2 and all(ax.get_title() for ax in axes)
        assert "MLP" in axes[0].get_title() and "zeroed" in axes[1].get_title()
        width, height = fig.get_size_inches()
        assert width == pytest.approx(7.0) and height <= 4.0
        assert all(any(t.get_text().startswith("v(") for t in ax.texts) for ax in axes), "v(even) named on both"
    window = rules.demo_windows(run)[0][0]
    tokens = torch.tensor([window])
    with run.model.hooks(fwd_hooks=planar.without_mlp()), torch.no_grad():
        logits, cache = run.model.run_with_cache(tokens)
    resid_mid = cache["resid_mid", 0][0]
    torch.testing.assert_close(argmax_maps._unembedded(run.model, resid_mid), logits[0].softmax(-1))
    assert not torch.allclose(
        argmax_maps._unembedded(run.model, resid_mid), planar.output_probabilities(run.model, resid_mid), atol=1e-3
    ), "the MLP changes the read-out"
