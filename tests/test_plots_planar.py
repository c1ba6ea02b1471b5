"""Every figure and animation of Part III returns a figure (or a GIF) for the 2-D model, and refuses a model whose
stream is not a plane."""

import io

import pytest
from glassbox import rules
from glassbox.model import Transformer
from glassbox.plots import animation
from glassbox.plots import planar as g
from glassbox.plots.core import MIN_POINTS, smallest_text
from glassbox.rules import cli
from glassbox.train import TrainConfig
from matplotlib.figure import Figure
from PIL import Image


@pytest.fixture(scope="module")
def run():
    recipe = rules.Recipe(16, TrainConfig(steps=4, eval_every=2, eval_batches=1, checkpoint_every=1, progress=False))
    return rules.train_rule("plus_last_even", recipe)


def test_every_figure_function_returns_a_figure(run):
    """The figures the command line writes (one list, `cli.figure_makers`), each a readable PNG."""
    makers = cli.figure_makers(run)
    # figures 01–18 (16–18: three value demos, each in three stages) and the supplementary score grid
    assert len(makers) == 25
    for name, draw in makers.items():
        fig = draw()
        assert isinstance(fig, Figure), name
        assert Image.open(io.BytesIO(fig._repr_png_())).size[0] > 100, name
        size, text = smallest_text(fig)
        assert size >= MIN_POINTS, f"{name}: {text!r} is {size:.1f} pt on the page"


def test_every_animation_is_a_gif_with_alt_text(run):
    window = rules.demo_windows(run)[0][0]
    for gif in (
        animation.embeddings_over_training(run, n_frames=3),
        animation.qkv_over_training(run, n_frames=3),
        animation.qk_attention_over_training(run, window, n_frames=3),
        animation.output_landscapes_over_training(run, [0, run.rule.plus], n_frames=3, resolution=6),
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
    with pytest.raises(ValueError, match="stage must be one of"):
        g.value_demo(run.model, run.rule, [0, 1], stage="middle")
