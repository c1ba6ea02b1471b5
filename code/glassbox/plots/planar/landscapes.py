"""Output landscapes of a planar model (`glassbox.plots.planar`): the probability of every next token at each point
of the plane after attention (07), with the values on top (11), and one window on every landscape (the value demos,
16–18). The argmax maps (06_2, 15_2, with and without the MLP) are `glassbox.plots.planar.argmax_maps`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

from glassbox.analysis.planar import (
    correct_predictions,
    head,
    output_probabilities,
    plane_grid,
    require_2d,
    to_numpy,
    token_positions,
    trace,
)
from glassbox.model import Transformer
from glassbox.plots.core import figure, verdict_colour, verdict_mark
from glassbox.plots.planar.labels import label
from glassbox.plots.planar.style import (
    EVEN,
    KIND_MARKER,
    LANDSCAPE,
    ODD,
    PLUS,
    TEXT,
    groups_of,
    token_colour,
)
from glassbox.rules.definitions import Rule


# -------------------------------------------------------------------------- 07, 11 output landscapes
def _landscapes(
    axes: Sequence[Axes] | np.ndarray,
    model: Transformer,
    rule: Rule,
    points: np.ndarray,
    *,
    resolution: int,
    draw_points=None,
    ncols: int = 4,
) -> None:
    xs, ys, grid = plane_grid(points, resolution)
    probs = to_numpy(output_probabilities(model, grid)).reshape(resolution, resolution, -1)
    for token, ax in enumerate(axes):
        ax.pcolormesh(xs, ys, probs[..., token], cmap=LANDSCAPE, vmin=0.0, vmax=1.0, shading="auto", rasterized=True)
        ax.set_title(f"P(next = {rule.vocab[token]})", fontsize=TEXT + 1)
        ax.tick_params(labelsize=TEXT)
        if token % ncols:
            ax.tick_params(labelleft=False)
        if token < len(axes) - ncols:
            ax.tick_params(labelbottom=False)
        if draw_points is not None:
            draw_points(ax, token)


def _landscape_grid(rule: Rule, ncols: int = 4) -> tuple[Figure, np.ndarray]:
    nrows = -(-rule.d_vocab // ncols)
    fig, axes = figure(ncols, nrows, width=7.0 / ncols, height=1.85)
    for ax in axes[rule.d_vocab :]:
        ax.set_axis_off()
    fig.colorbar(
        matplotlib.cm.ScalarMappable(matplotlib.colors.Normalize(0, 1), LANDSCAPE),
        ax=list(axes),
        shrink=0.6,
        label="probability",
    )
    return fig, axes


def output_landscape(
    model: Transformer,
    rule: Rule,
    points: Tensor | None = None,
    *,
    values: bool = False,
    resolution: int = 90,
    title: str = "",
) -> Figure:
    """One panel per output token: the probability the model gives that token when the residual stream, right after
    attention, sits at each point of the plane (then MLP, residual, unembedding); with the token+position inputs
    (or `points`, [V, n_ctx, 2]) drawn on top as one path per token, coloured by kind, and with `values` the value
    v of every input (white ×, one path per token): what attention adds to a point when it attends to that input.
    Each panel names the values of its own token, v(t), drawn bolder than the rest: where they lie against the bright
    region of t is what the panel shows."""
    require_2d(model)
    paths = to_numpy(token_positions(model) if points is None else points)
    value_paths = to_numpy(head(model, token_positions(model), "v")) if values else None
    fig, axes = _landscape_grid(rule)

    def draw(ax: Axes, token: int) -> None:
        if value_paths is not None:
            for t in range(rule.d_vocab):
                own = t == token
                ax.plot(*value_paths[t].T, color="white", linewidth=1.1 if own else 0.5, alpha=1 if own else 0.55)
                ax.scatter(*value_paths[t].T, color="white", marker="x", s=14 if own else 6, linewidths=0.6)
            label(
                ax,
                f"v({rule.vocab[token]})",
                value_paths[token, -1],
                anchors=[value_paths[token, 0]],
                colour="white",
                halo="black",
            )
        for t in range(rule.d_vocab):
            c = token_colour(rule, t)
            ax.plot(paths[t, :, 0], paths[t, :, 1], color=c, linewidth=0.6)
            ax.scatter(
                paths[t, :, 0], paths[t, :, 1], color=c, marker=KIND_MARKER[c], s=6, linewidths=0.3, edgecolors="white"
            )

    shown = paths.reshape(-1, 2) if value_paths is None else np.concatenate([paths, value_paths]).reshape(-1, 2)
    _landscapes(axes[: rule.d_vocab], model, rule, shown, resolution=resolution, draw_points=draw)
    handles = [
        matplotlib.lines.Line2D([], [], marker=KIND_MARKER[c], color=c, label=k)
        for c, k in ((EVEN, "even"), (ODD, "odd"), (PLUS, "+"))
        if k != "+" or rule.has_plus
    ]
    if value_paths is not None:
        handles.append(matplotlib.lines.Line2D([], [], marker="x", color="0.3", label="values v (white; v(t) named)"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=TEXT)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


WHITE_BOX = dict(boxstyle="round,pad=0.1", facecolor="white", alpha=0.8, linewidth=0)
VALUE_DEMO_STAGES = ("values", "arrows", "final")


def value_demo(
    model: Transformer,
    rule: Rule,
    tokens: Sequence[int],
    full: Sequence[int] | None = None,
    *,
    stage: str = "arrows",
    resolution: int = 60,
) -> Figure:
    """One window on every output token's probability landscape, at one `stage`: "values" (the values v, labelled by
    position), "arrows" (from each x to x + attention output; blue ✓: next token right, vermilion ✗: wrong, grey:
    free) or "final" (x + attention output alone, the points the MLP and unembedding turn into predictions)."""
    require_2d(model)
    if stage not in VALUE_DEMO_STAGES:
        raise ValueError(f"stage must be one of {', '.join(VALUE_DEMO_STAGES)}, got {stage!r}")
    t = trace(model, tokens)
    correct = correct_predictions(rule, tokens, t.probs, full)
    points = np.concatenate([t.v, t.embed, t.resid_mid])
    fig, axes = _landscape_grid(rule)

    def draw(ax: Axes, token: int) -> None:
        if stage == "values":
            ax.scatter(*t.v.T, s=12, color="white", edgecolors="black", linewidths=0.4)
            for group in groups_of(t.v, ["white"] * len(t.v), 0.03 * float(np.ptp(points, axis=0).max())):
                label(ax, ",".join(map(str, group)), t.v[group[0]], colour="white", halo="black")  # positions
            return
        if stage == "arrows":
            for (x0, y0), (x1, y1), c in zip(t.embed, t.resid_mid, correct, strict=True):
                ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="-|>", color=verdict_colour(c), lw=0.9))
        for (x, y), c in zip(t.resid_mid, correct, strict=True):
            ax.scatter(x, y, s=14, color=verdict_colour(c), edgecolors="white", linewidths=0.3)
            if c is not None:
                label(ax, verdict_mark(c), (x, y), colour="white", halo="black")

    _landscapes(axes[: rule.d_vocab], model, rule, points, resolution=resolution, draw_points=draw)
    what = {"values": "values v", "arrows": "x → x + attention output", "final": "x + attention output"}[stage]
    fig.suptitle(f"'{rule.decode(tokens)}': {what}", fontsize=10)
    return fig
