"""A matrix with no negative entry (an attention pattern) is coloured from 0 in one hue; a signed one symmetrically
around zero (chapter 9's circuits figure)."""

import torch
from glassbox.plots import analysis as plots


def test_a_probability_matrix_uses_its_whole_colour_bar():
    pattern = torch.randn(6, 6).softmax(-1)
    signed = torch.randn(6, 6)
    fig = plots.matrices({"pattern": pattern, "signed": signed}, xlabel="x", ylabel="y")
    first, second = (ax.get_images()[0] for ax in fig.axes if ax.get_images())
    assert first.get_clim() == (0.0, float(pattern.max())) and first.get_cmap().name == "Reds"
    limit = float(signed.abs().max())
    assert second.get_clim() == (-limit, limit) and second.get_cmap().name == "RdBu_r"
