"""Every figure and animation of Part III returns a figure (or a GIF) for the 2-D model, and refuses a model whose
stream is not a plane."""

import dataclasses
import io

import numpy as np
import pytest
import torch
from figure_content import assert_shows_something
from glassbox import rules
from glassbox.analysis import planar
from glassbox.model import Transformer
from glassbox.plots import animation
from glassbox.plots import planar as g
from glassbox.plots import planar_views as views
from glassbox.plots.core import MIN_POINTS, clipped_text, smallest_text
from glassbox.plots.planar import labels as labelling
from glassbox.rules import cli
from glassbox.train import TrainConfig
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

pytestmark = pytest.mark.slow  # trains a Part III model and draws every figure and animation


@pytest.fixture(scope="module")
def run():
    recipe = rules.Recipe(16, TrainConfig(steps=4, eval_every=2, eval_batches=1, checkpoint_every=1, progress=False))
    return rules.train_rule("plus_last_even", recipe)


def test_every_figure_function_returns_a_figure(run):
    """The figures the command line writes (one list, `cli.figure_makers`), each a readable PNG."""
    makers = cli.figure_makers(run)
    # figures 01–18 (16–18: three value demos, each in three stages), the seed's 06_2 summary, 11_1 `+` score row and
    # 15_2 arrows on the argmax map, and the supplementary score grid; chapter 6b's 08_2 per dimension, 15_3 query
    # gradients, supplementary 07 overview and 14 attention matrix, and a frozen output landscape per position (8)
    assert len(makers) == 28 + 4 + run.model.cfg.n_ctx
    seed_names = {"08_2_qkv_per_dimension", "15_3_query_dot_product_gradients", "supplementary_07_qkv_overview"}
    assert seed_names | {"supplementary_14_attention_matrix"} <= set(makers)
    assert sum(name.startswith("frozen_output_pos") for name in makers) == run.model.cfg.n_ctx
    for name, draw in makers.items():
        fig = draw()
        assert isinstance(fig, Figure), name
        assert_shows_something(fig, name=name)  # an empty figure is wider than 100 px and legible: it must fail here
        assert Image.open(io.BytesIO(fig._repr_png_())).size[0] > 100, name
        size, text = smallest_text(fig)
        assert size >= MIN_POINTS, f"{name}: {text!r} is {size:.1f} pt on the page"
        assert not clipped_text(fig), f"{name}: cut off at the figure's edge: {clipped_text(fig)}"


def test_every_animation_is_a_gif_with_alt_text(run):
    window = rules.demo_windows(run)[0][0]
    for gif in (
        animation.embeddings_over_training(run, n_frames=3),
        animation.qkv_over_training(run, n_frames=3),
        animation.qk_attention_over_training(run, window, n_frames=3),
        animation.output_landscapes_over_training(run, [0, run.rule.plus], n_frames=3, resolution=6),
        animation.output_landscapes_over_training(run, n_frames=3, resolution=6),  # every token by default
        animation.qk_space_over_training(run, n_frames=3),
    ):
        image = Image.open(io.BytesIO(gif.data))
        assert image.format == "GIF" and image.n_frames == gif.n_frames == 3
        assert 'alt="Animation: ' in gif._repr_html_()


def test_frame_steps_spread_evenly_and_keep_the_ends():
    assert animation.frame_steps(list(range(0, 1001, 50)), 5) == [0, 250, 500, 750, 1000]
    with pytest.raises(ValueError, match="at least 2 frames"):
        animation.frame_steps([0, 1], 1)


def test_planar_figures_refuse_a_wider_stream(run):
    wide = Transformer(rules.get_setup("step_back").model_config(11))
    with pytest.raises(ValueError, match="needs d_model=2, got 4"):
        g.embeddings(wide, run.rule)
    with pytest.raises(ValueError, match="position must lie in 0"):
        g.qk_focus(run.model, run.rule, 0, 8)
    with pytest.raises(ValueError, match="lucky7 has no `\\+` token"):
        g.plus_score_row(run.model, rules.get_rule("lucky7"))
    with pytest.raises(ValueError, match="position must lie in 0"):
        g.plus_score_row(run.model, run.rule, 9)
    with pytest.raises(ValueError, match="stage must be one of"):
        g.value_demo(run.model, run.rule, [0, 1], stage="middle")


def test_landscape_summary_names_each_region_by_its_predicted_token(run):
    fig = g.landscape_summary(run.model, run.rule)
    argmax_axis = fig.axes[0]
    names = {t.get_text() for t in argmax_axis.texts if t.get_text().startswith("→ ")}
    assert names and names <= {f"→ {v}" for v in run.rule.vocab}
    assert any(t.get_text() == "v(0)" for t in argmax_axis.texts), "the values are named"
    window, full = rules.demo_windows(run)
    fig = g.landscape_summary(run.model, run.rule, window[0], full[0])
    assert sum(1 for t in fig.axes[0].texts if "_" in t.get_text()) == len(window[0]), "every arrow end is named"


def test_plus_score_row_masks_only_impossible_keys(run):
    fig = g.plus_score_row(run.model, run.rule, 3)
    values = fig.axes[0].images[0].get_array()
    assert values.shape == (run.rule.d_vocab, 4)
    assert values.mask[:, 3].sum() == run.rule.d_vocab - 1 and not values.mask[run.rule.plus, 3]
    assert not values.mask[:, :3].any()


def test_animation_labels_move_with_their_points(run):
    """`_Dots.move` moves each label to its points (the annotation's target, not only its text: labels piled up at
    the origin), a label that names several points to their mean."""
    from glassbox.plots.core import figure

    fig, (ax,) = figure()
    labels = [("a", [0], "red"), ("b,c", [1, 2], "blue")]
    dots = animation._Dots(ax, 3, ["red", "blue", "blue"], ((0, 9), (0, 9)), "t", labels)
    dots.move(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    assert [tuple(label.xy) for label in dots.labels] == [(1.0, 2.0), (4.0, 5.0)]


def test_animation_labels_name_bunched_points_once():
    final = np.array([[0.0, 0.0], [0.01, 0.0], [1.0, 1.0], [0.0, 0.01]])
    groups = animation._label_groups(final, {0: "1", 1: "3", 2: "4", 3: "5"}, ["o", "o", "e", "e"])
    assert groups == [("1,3", [0, 1], "o"), ("4", [2], "e"), ("5", [3], "e")], "same colour and near: one label"


def _label_boxes(fig: Figure) -> list[tuple[object, object, str]]:
    """(axes, display box, text) of every placed label of `fig`, after drawing it as the page does."""
    fig.draw_without_rendering()
    renderer = fig._get_renderer()
    return [
        (ax, Text.get_window_extent(placed, renderer), placed.get_text())  # the text, not its leader line
        for ax in fig.axes
        for artist in ax.artists
        if isinstance(artist, labelling._Placer)
        for placed in artist.labels
    ]


def test_labels_keep_off_the_markers_and_each_other():
    """Points in a tight row with long names: each name lands on none of the markers and no other name."""
    from glassbox.plots.core import figure

    fig, (ax,) = figure(width=3.5, height=3.0)
    points = np.array([[x, 0.0] for x in range(8)] + [[3.5, 0.3]])
    ax.scatter(*points.T, s=30)
    for k, point in enumerate(points):
        labelling.label(ax, f"token {k}", point)
    ax.set(xlim=(-1, 8), ylim=(-2, 2))
    boxes = _label_boxes(fig)
    renderer = fig._get_renderer()
    markers = ax.transData.transform(points)
    radius = np.sqrt(30) / 2 * renderer.points_to_pixels(1.0)
    for k, (_, box, text) in enumerate(boxes):
        assert ax.bbox.contains(box.x0, box.y0) and ax.bbox.contains(box.x1, box.y1), f"{text}: inside the axes"
        near = (markers[:, 0] > box.x0 - radius) & (markers[:, 0] < box.x1 + radius)
        near &= (markers[:, 1] > box.y0 - radius) & (markers[:, 1] < box.y1 + radius)
        assert not near.any(), f"{text} covers a marker"
        assert not any(box.overlaps(other) for _, other, _ in boxes[k + 1 :]), f"{text} covers another label"


def test_the_figures_name_their_paths_and_values_without_overprinting(run):
    """Figures 08 (values panel), 10 (key paths), 11 (each panel's v(t)) and chapter 6b's frozen output (its token's
    values): every path or value is named, inside its panel, and no two names overlap."""
    window = rules.demo_windows(run)[0][0]
    figures = {
        "08": g.qkv_transforms(run.model, run.rule),
        "10": g.qk_focus(run.model, run.rule, run.rule.plus, 5),
        "11": g.output_landscape(run.model, run.rule, values=True),
        "frozen": views.frozen_output(run.model, run.rule, window, len(window) - 1),
    }
    for name, fig in figures.items():
        boxes = _label_boxes(fig)
        assert boxes, f"{name}: no names"
        for k, (ax, box, text) in enumerate(boxes):
            assert ax.bbox.padded(2).contains(box.x0, box.y0) and ax.bbox.padded(2).contains(box.x1, box.y1), (
                f"{name}: {text} leaves its panel"
            )
            same = [other for a, other, _ in boxes[k + 1 :] if a is ax]
            assert not any(box.overlaps(other) for other in same), f"{name}: {text} covers another name"
    texts = {name: [t for _, _, t in _label_boxes(fig)] for name, fig in figures.items()}
    assert texts["11"] == [f"v({v})" for v in run.rule.vocab], "each panel names its own token's values"
    assert all(t.startswith("v(") for t in texts["frozen"])


def test_gif_palette_comes_from_every_frame():
    """Early frames keep their colours: a palette of the last frame alone turned them grey."""
    from PIL import Image

    red, blue = Image.new("RGB", (8, 8), (255, 0, 0)), Image.new("RGB", (8, 8), (0, 0, 255))
    palette = animation.palette_of([red] * 5 + [blue] * 5)
    colours = {tuple(palette.getpalette()[3 * i : 3 * i + 3]) for i in range(2)}
    assert colours == {(255, 0, 0), (0, 0, 255)}


def test_more_views_refuse_a_wider_stream_and_bad_windows(run):
    wide = Transformer(rules.get_setup("step_back").model_config(11))
    window = rules.demo_windows(run)[0][0]
    for draw in (  # per dimension and the attention matrix need no plane: any width (the next tests)
        lambda m: views.qkv_overview(m, run.rule, window),
        lambda m: views.frozen_output(m, run.rule, window, 0),
        lambda m: views.query_gradients(m, run.rule, window),
    ):
        with pytest.raises(ValueError, match="needs d_model=2, got 4"):
            draw(wide)
    with pytest.raises(ValueError, match="a window holds 1 … 8 tokens, got 9"):
        views.query_gradients(run.model, run.rule, window + [0])
    with pytest.raises(ValueError, match="position must lie in 0 … 7, got 8"):
        views.frozen_output(run.model, run.rule, window, 8)


def test_frozen_landscape_is_the_model_with_the_attention_output_it_gets(run):
    """The frozen landscape at the attention output a position really gets is the model's own prediction there."""
    window = rules.demo_windows(run)[0][0]
    t = planar.trace(run.model, window)
    for p in (0, len(window) - 1):
        land = views.frozen_landscape(run.model, window, p, 5)
        mid = torch.tensor(t.embed[p] + land["attn_out"], dtype=torch.float32)
        assert np.allclose(planar.output_probabilities(run.model, mid).numpy(), t.probs[p], atol=1e-5)
        assert land["visible_values"].shape == (p + 1, 2) and land["probs"].shape == (5, 5, run.rule.d_vocab)
        assert np.allclose(land["probs"].sum(-1), 1, atol=1e-5)


def test_position_share_is_zero_without_positions_and_grows_with_them(run):
    model = Transformer(run.model.cfg)
    model.load_state_dict(run.model.state_dict())
    with torch.no_grad():
        model.W_pos.zero_()
    assert max(views.position_share(model).values()) < 1e-6
    with torch.no_grad():
        model.W_pos.copy_(torch.randn_like(model.W_pos, generator=torch.Generator().manual_seed(0)) * 100)
    assert min(views.position_share(model).values()) > 1


def test_a_wider_model_gets_every_figure_that_needs_no_plane_and_is_told_why_not_the_others():
    recipe = rules.Recipe(16, TrainConfig(steps=2, eval_every=1, eval_batches=1, checkpoint_every=1, progress=False))
    setup = rules.get_setup("copy_modulo")
    wide = rules.train_rule("copy_modulo", recipe, setup=dataclasses.replace(setup, d_model=3))
    makers = cli.figure_makers(wide)
    assert set(makers) == {
        "01_architecture",
        "02_learning_curve",
        "03_training_data",
        "04_generated_sequences",
        "05_token_embeddings_pca",
        "08_2_qkv_per_dimension",
        "13_attention_per_head",
        "supplementary_14_attention_matrix",
    }
    for name in ("05_token_embeddings_pca", "08_2_qkv_per_dimension", "supplementary_14_attention_matrix"):
        fig = makers[name]()
        assert smallest_text(fig)[0] >= MIN_POINTS, name
    refused = cli.refused_figures(wide)
    assert "07_output_probabilities" in refused and "learning_qk_space" in refused and not set(refused) & set(makers)
    plane = "draws the residual stream as a plane: it needs d_model=2, this model has d_model=3"
    assert refused["09_qk_space"] == plane
    with pytest.raises(ValueError, match="figure 07_output_probabilities is not drawn for this model: it draws"):
        cli.select(makers, ["07"], refused)


def test_qkv_per_dimension_draws_one_row_per_head_dimension_up_to_four(run):
    assert len(views.qkv_per_dimension(run.model, run.rule).axes) == 3 * 2 * 2  # 6 tables and their colour bars
    wide = Transformer(dataclasses.replace(rules.get_setup("step_back").model_config(11), d_model=8, d_head=8))
    with pytest.raises(ValueError, match="at most 4; this head has 8"):
        views.qkv_per_dimension(wide, run.rule)
