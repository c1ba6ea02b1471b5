"""Every figure function returns a Figure that renders to PNG on its own (no pyplot state)."""

import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from glassbox import plots
from matplotlib.figure import Figure


def renders(fig: Figure) -> bool:
    png = fig._repr_png_()
    return isinstance(fig, Figure) and png.startswith(b"\x89PNG") and len(png) < 300_000


def test_chapter_1_figures():
    pattern = torch.rand(4, 4).softmax(-1)
    assert renders(plots.attention_pattern(pattern, ["a", "b", "c", "d"]))
    scores = torch.randn(4, 4).masked_fill(~torch.ones(4, 4, dtype=torch.bool).tril(), float("-inf"))
    assert renders(plots.causal_masking(scores, scores.softmax(-1), list("abcd")))
    d = [1, 2, 4]
    series = {"a": [0.2, 0.5, 0.9], "b": [0.2, 0.2, 0.2]}
    assert renders(plots.softmax_saturation(d, series, series, math.log(16)))


def test_chapter_2_figures():
    pe = torch.randn(16, 8)
    assert renders(plots.position_encodings(pe, dims=[0, 2]))
    assert renders(plots.position_similarity(pe))
    assert renders(plots.activation_functions(torch.linspace(-3, 3, 50), {"relu": F.relu, "gelu": F.gelu}))
    x = torch.randn(10, 8) * 3 + 1
    assert renders(plots.layer_norm_effect(x, F.layer_norm(x, (8,))))


def test_figures_do_not_leak_into_pyplot():
    plt.close("all")
    plots.position_similarity(torch.randn(4, 4))
    assert plt.get_fignums() == []
