"""Every figure function returns a Figure that renders to PNG on its own (no pyplot state), with no text under
`MIN_POINTS` at the size the page shows it."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from figure_content import assert_shows_something, images, line_data, panels, tick_texts
from glassbox import plots
from glassbox.plots.core import MIN_POINTS, clipped_text, smallest_text
from matplotlib.figure import Figure


def renders(fig: Figure) -> bool:
    assert_shows_something(fig)  # an empty figure has no text too small and nothing cut off: it must fail here
    png = fig._repr_png_()
    points, text = smallest_text(fig)
    assert points >= MIN_POINTS, f"{text!r} is {points:.1f} pt on the page"
    assert not clipped_text(fig), f"cut off at the figure's edge: {clipped_text(fig)}"
    return isinstance(fig, Figure) and png.startswith(b"\x89PNG") and len(png) < 300_000


def test_chapter_1_figures():
    pattern = torch.rand(4, 4).softmax(-1)
    fig = plots.attention_pattern(pattern, ["a", "b", "c", "d"])
    assert renders(fig)
    (ax,) = panels(fig)  # one heatmap: the pattern itself, tokens on both axes
    np.testing.assert_allclose(images(fig)[0], pattern.numpy(), rtol=1e-6)
    assert tick_texts(ax, "x") == list("abcd") and tick_texts(ax, "y") == list("abcd")
    assert "key" in ax.get_xlabel() and "query" in ax.get_ylabel()
    scores = torch.randn(4, 4).masked_fill(~torch.ones(4, 4, dtype=torch.bool).tril(), float("-inf"))
    fig = plots.causal_masking(scores, scores.softmax(-1), list("abcd"))
    assert renders(fig) and len(panels(fig)) == 2  # the masked scores, then their softmax
    np.testing.assert_allclose(images(fig)[1], scores.softmax(-1).numpy(), rtol=1e-6)
    d = [1, 2, 4]
    series = {"a": [0.2, 0.5, 0.9], "b": [0.2, 0.2, 0.2]}
    fig = plots.softmax_saturation(d, series, series, math.log(16))
    assert renders(fig) and len(panels(fig)) == 2
    drawn = [y.tolist() for x, y in line_data(panels(fig)[0]) if x.tolist() == d]
    assert series["a"] in drawn and series["b"] in drawn


def test_chapter_2_figures():
    positions = torch.arange(16.0)[:, None]
    omega = 10000.0 ** (-torch.arange(0, 8, 2) / 8)
    pe = torch.stack([(positions * omega).sin(), (positions * omega).cos()], dim=-1).flatten(1)  # [16, 8]: sin, cos
    fig = plots.position_encodings(pe, dims=[0, 2])
    assert renders(fig) and len(panels(fig)) == 2  # the whole table, then the chosen dimensions as curves
    assert images(fig)[0].shape == (8, 16)  # [dimension, position]
    np.testing.assert_allclose(images(fig)[0], pe.T.numpy(), rtol=1e-6)
    curves = [y for _, y in line_data(panels(fig)[1])]
    for dim in (0, 2):
        dots = [y for y in curves if len(y) == 16]
        assert any(np.allclose(y, pe[:, dim].numpy(), atol=1e-6) for y in dots), f"dimension {dim}'s dots are not drawn"
        assert any(len(y) > 16 * 10 for y in curves), "the continuous sine under the dots is not drawn"
    with pytest.raises(ValueError, match="dimension 0 of the encoding is not the sinusoid"):
        plots.position_encodings(torch.randn(16, 8), dims=[0, 2])  # a learned table is not what this figure draws
    fig = plots.position_similarity(pe)
    assert renders(fig)
    assert images(fig)[0].shape == (16, 16)
    x = torch.linspace(-3, 3, 50)
    fig = plots.activation_functions(x, {"relu": F.relu, "gelu": F.gelu})
    assert renders(fig) and len(panels(fig)) == 2  # the functions, then their derivatives
    values = [y for _, y in line_data(panels(fig)[0])]
    for f in (F.relu, F.gelu):
        assert any(np.allclose(y, f(x).numpy(), atol=1e-6) for y in values), f"{f.__name__} is not drawn"
    assert panels(fig)[0].get_ylabel() == "f(x)" and panels(fig)[1].get_ylabel() == "f′(x)"
    x = torch.randn(10, 8) * 3 + 1
    assert renders(plots.layer_norm_effect(x, F.layer_norm(x, (8,))))


def test_figures_do_not_leak_into_pyplot():
    plt.close("all")
    plots.position_similarity(torch.randn(4, 4))
    assert plt.get_fignums() == []


# ------------------------------------------------------------------------- the book-wide style (plots.core)
def test_png_is_at_twice_the_display_width_and_its_colours_stay_true():
    """High-DPI: the PNG carries 2 device pixels per CSS pixel and says its display width. A palette is used only
    when no pixel moves by more than PALETTE_TOLERANCE levels, so a colour bar keeps its colours (quantising to 128
    colours turned viridis' yellow top orange)."""
    import io

    import numpy as np
    from glassbox.plots import core
    from PIL import Image

    fig, (ax,) = core.figure(width=9.0, height=3.0)  # wider than the column: shown at the column's width
    ax.imshow(np.linspace(0, 1, 256)[None], cmap="viridis", aspect="auto")
    data, metadata = fig._repr_mimebundle_()
    image = Image.open(io.BytesIO(data["image/png"])).convert("RGB")
    assert metadata["image/png"]["width"] == 700 and image.size[0] == 2 * 700
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=core.HIDPI * fig.display_pixels() / fig.get_figwidth())
    exact = np.asarray(Image.open(buffer).convert("RGB"), dtype=int)
    assert np.abs(np.asarray(image, dtype=int) - exact).max() <= core.PALETTE_TOLERANCE
    yellow = np.abs(exact - np.array([253, 231, 37])).max(-1) <= 2  # viridis' top, exactly as drawn
    assert yellow.any() and np.abs(np.asarray(image, dtype=int)[yellow] - [253, 231, 37]).max() <= 8


def test_a_palette_is_used_only_when_faithful():
    """Noise needs more than 256 colours: kept in full colour. Flat colours fit a palette: fewer bytes."""
    import io

    import numpy as np
    from glassbox.plots.core import PALETTE_TOLERANCE, faithful_palette
    from PIL import Image

    def png(pixels: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="png")
        return buffer.getvalue()

    noise = png(np.random.default_rng(0).integers(0, 256, (64, 64, 3)))
    assert faithful_palette(noise) == noise
    flat = np.random.default_rng(0).integers(0, 64, (64, 64))[..., None].repeat(3, -1) * 4  # 64 greys, scattered
    paletted = faithful_palette(png(flat))
    assert Image.open(io.BytesIO(paletted)).mode == "P" and len(paletted) <= len(png(flat))
    back = np.asarray(Image.open(io.BytesIO(paletted)).convert("RGB"), dtype=int)
    assert np.abs(back - flat).max() <= PALETTE_TOLERANCE


def test_text_colour_follows_the_cells_luminance():
    from glassbox.plots.core import text_colour

    assert text_colour("#08306b") == "white"  # navy (the dark end of Blues)
    assert text_colour("#fde725") == "black"  # yellow (the top of viridis, which is light)
    assert text_colour("#440154") == "white"  # the bottom of viridis, which is dark
    assert text_colour("white") == "black"


def test_diverging_maps_are_centred_on_zero_with_a_colour_bar():
    import numpy as np
    from glassbox.plots import core

    norm = core.diverging_norm(np.array([-2.39, 0.41]))
    assert norm(0.0) == 0.5 and abs(norm(-2.39) - 0.0) < 1e-9 and norm(0.41) < 0.6
    fig, (ax,) = core.figure()
    core.heatmap(ax, np.array([[-2.39, 0.41]]), cmap="RdBu_r", annotate=True)
    assert len(fig.axes) == 2, "a heatmap gets its colour bar by default"
    image = ax.images[0]
    assert image.norm(0.0) == 0.5


def test_right_and_wrong_have_a_second_cue():
    from glassbox.plots import core
    from matplotlib.colors import to_rgb

    assert {core.verdict_mark(True), core.verdict_mark(False), core.verdict_mark(None)} == {"✓", "✗", "·"}
    assert len({core.verdict_colour(c) for c in (True, False, None)}) == 3
    # the two colours differ in lightness, not only hue: told apart in greyscale
    assert abs(core.luminance(to_rgb(core.RIGHT)) - core.luminance(to_rgb(core.WRONG))) > 0.1


def test_smallest_text_is_measured_at_display_size():
    from glassbox.plots import core

    fig, (ax,) = core.figure(width=14.0, height=3.0)  # shown at half size
    ax.set_title("title", fontsize=12)
    ax.set_xticks([])
    ax.set_yticks([])
    size, text = core.smallest_text(fig)
    assert (size, text) == (6.0, "title")


def test_chapter_4_and_5_figures():
    from glassbox.config import TransformerConfig
    from glassbox.model import Transformer
    from glassbox.parameters import parameter_counts
    from glassbox.plots.model import KIND_COLOURS
    from glassbox.train import History

    model = Transformer(TransformerConfig(d_model=8, n_layers=2, n_heads=2, d_vocab=5, n_ctx=4))
    fig = plots.parameter_breakdown(parameter_counts(model.named_parameters()), 2)
    assert renders(fig)
    left, right = fig.axes[:2]
    colours = {bar.get_facecolor() for bar in left.patches} | {bar.get_facecolor() for bar in right.patches}
    assert len(colours) <= len(KIND_COLOURS)  # one colour per kind of component, the same in both panels
    history = History(train_loss=[3.0, 2.5, 2.0], eval_steps=[0, 3], eval_train_loss=[3.2, 2.0], val_loss=[3.2, 2.4])
    fig = plots.loss_curves(history, 3.3, best_step=3)
    assert renders(fig) and all(text.get_fontsize() >= 9 for text in fig.legends[0].get_texts())
    assert renders(plots.training_variants({"a": ([0, 5], [3.0, 2.0]), "b": ([0, 5], [3.0, 2.1])}, 3.3))
