"""Every figure and animation of Part III returns a figure (or a GIF) for the 2-D model, and refuses a model whose
stream is not a plane."""

import io

import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

from glassbox import rules
from glassbox.plots import animation, glassbox as g
from glassbox.train import TrainConfig


@pytest.fixture(scope="module")
def run():
    recipe = rules.Recipe(16, TrainConfig(steps=4, eval_every=2, eval_batches=1, checkpoint_every=1, progress=False))
    return rules.train_rule("plus_last_even", recipe)


def figures(run):
    model, rule = run.model, run.rule
    windows, continuations = rules.demo_windows(run)
    points = g.self_attention_points(model)
    return {
        "architecture": lambda: g.architecture(model),
        "learning_curve": lambda: g.learning_curve(run.history),
        "training_data": lambda: g.training_data(rule, run.data.train[:3]),
        "generated_sequences": lambda: g.generated_sequences(rule, run.data.train[:2], run.data.val[:2]),
        "embeddings": lambda: g.embeddings(model, rule),
        "embedding_scatter": lambda: g.embedding_scatter(model, rule),
        "output_landscape": lambda: g.output_landscape(model, rule, resolution=8),
        "output_landscape_values": lambda: g.output_landscape(model, rule, points, labels=["x"] * points[..., 0].numel(),
                                                              resolution=8),
        "qkv_transforms": lambda: g.qkv_transforms(model, rule),
        "qk_space": lambda: g.qk_space(model, rule),
        "qk_focus": lambda: g.qk_focus(model, rule, rule.plus, 5),
        "score_grid": lambda: g.score_grid(model, rule),
        "sequence_embeddings": lambda: g.sequence_embeddings(model, rule, windows[0]),
        "qk_attention": lambda: g.qk_attention(model, rule, windows[:1]),
        "value_output": lambda: g.value_output(model, rule, windows[:1]),
        "residual_stream": lambda: g.residual_stream(model, rule, windows[:1], continuations[:1]),
        "value_demo": lambda: g.value_demo(model, rule, windows[0], continuations[0], resolution=8),
    }


def test_every_figure_function_returns_a_figure(run):
    for name, draw in figures(run).items():
        fig = draw()
        assert isinstance(fig, Figure), name
        assert Image.open(io.BytesIO(fig._repr_png_())).size[0] > 100, name


def test_every_animation_is_a_gif_with_alt_text(run):
    window = rules.demo_windows(run)[0][0]
    for gif in (animation.embeddings_over_training(run, n_frames=3), animation.qkv_over_training(run, n_frames=3),
                animation.qk_attention_over_training(run, window, n_frames=3),
                animation.output_landscapes_over_training(run, [0, run.rule.plus], n_frames=3, resolution=6)):
        image = Image.open(io.BytesIO(gif.data))
        assert image.format == "GIF" and image.n_frames == gif.n_frames == 3
        assert 'alt="Animation: ' in gif._repr_html_()


def test_frame_steps_spread_evenly_and_keep_the_ends():
    assert animation.frame_steps(list(range(0, 1001, 50)), 5) == [0, 250, 500, 750, 1000]
    with pytest.raises(ValueError, match="at least 2 frames"):
        animation.frame_steps([0, 1], 1)


def test_planar_figures_refuse_a_wider_stream(run):
    wide = rules.Transformer(rules.get_setup("step_back").model_config(11))
    with pytest.raises(ValueError, match="needs d_model=2, got 4"):
        g.embeddings(wide, run.rule)
    with pytest.raises(ValueError, match="position must lie in 0"):
        g.qk_focus(run.model, run.rule, 0, 8)
