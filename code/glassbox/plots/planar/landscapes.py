"""Output landscapes of a planar model (`glassbox.plots.planar`): the probability of every next token at each point
of the plane after attention (07), with the values on top (11), the seed's summary in two maps (argmax and
entropy, 06_2) or with one window's arrows (15_2), and one window on every landscape (the value demos, 16–18).
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
from glassbox.plots.core import figure, mosaic, text_colour, verdict_colour, verdict_mark
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


# ------------------------------------------------------------------ the seed's summary figures (06_2, 11_1, 15)
def _token_palette(rule: Rule) -> list[tuple[float, float, float, float]]:
    """One colour per output token, by kind (evens in cool colours, odds in oranges, `+` purple). Up to six even
    numbers get six cool colours that differ in hue and lightness both, so neighbouring regions stay apart; more
    get a ramp of blues, light to dark."""
    distinct = ["#9ecae1", "#08519c", "#74c476", "#00441b", "#4eb3d3", "#54278f"]
    colours = []
    evens = [t for t in rule.numbers if t % 2 == 0]
    odds = [t for t in rule.numbers if t % 2]
    for t in range(rule.d_vocab):
        if rule.has_plus and t == rule.plus:
            colours.append(matplotlib.colors.to_rgba(PLUS))
        elif t % 2 == 0 and len(evens) <= len(distinct):
            colours.append(matplotlib.colors.to_rgba(distinct[evens.index(t)]))
        elif t % 2 == 0:
            colours.append(matplotlib.colormaps["Blues"](0.3 + 0.65 * evens.index(t) / max(1, len(evens) - 1)))
        else:
            colours.append(matplotlib.colormaps["Oranges"](0.25 + 0.6 * odds.index(t) / max(1, len(odds) - 1)))
    return colours


def landscape_summary(
    model: Transformer,
    rule: Rule,
    window: Sequence[int] | None = None,
    full: Sequence[int] | None = None,
    *,
    resolution: int = 150,
) -> Figure:
    """The output landscape in two maps instead of twelve: top, the token the model predicts at each point of the
    plane (its argmax; each region named by its token); bottom, how sure it is (the entropy of its distribution,
    in nats). Both carry the token embeddings W_E (named) and the values v of every input (×, one path per token).
    With `window`, the top map carries that window's arrows from x to x + attention output instead (✓/✗ where the
    next token is then predicted right or wrong)."""
    require_2d(model)
    x = to_numpy(token_positions(model))
    values = to_numpy(head(model, token_positions(model), "v"))
    t = trace(model, window) if window is not None else None
    shown = [x.reshape(-1, 2), values.reshape(-1, 2)] + ([t.embed, t.resid_mid] if t is not None else [])
    xs, ys, grid = plane_grid(np.concatenate(shown), resolution, margin=0.08)
    probs = to_numpy(output_probabilities(model, grid)).reshape(resolution, resolution, -1)
    best = probs.argmax(-1)
    entropy = -(probs * np.log(np.clip(probs, 1e-12, None))).sum(-1)
    layout = [["argmax"]] if t is not None else [["argmax"], ["entropy"]]  # with a window: the arrows' map only
    fig, axes = mosaic(layout, width=7.0, height=6.0 if t is not None else 9.8)
    palette = matplotlib.colors.ListedColormap(_token_palette(rule))
    axes["argmax"].pcolormesh(
        xs, ys, best, cmap=palette, vmin=-0.5, vmax=rule.d_vocab - 0.5, shading="auto", rasterized=True
    )
    for token in np.unique(best):
        rows, cols = np.nonzero(best == token)
        if len(rows) < resolution:  # a sliver: too small to name
            continue
        centre = (xs[int(np.median(cols))], ys[int(np.median(rows))])
        axes["argmax"].text(
            *centre,
            f"→ {rule.vocab[token]}",
            fontsize=TEXT + 1,
            ha="center",
            va="center",
            color=text_colour(_token_palette(rule)[token]),
            fontweight="bold",
        )
    if "entropy" in axes:
        mesh = axes["entropy"].pcolormesh(xs, ys, entropy, cmap=LANDSCAPE, vmin=0.0, shading="auto", rasterized=True)
        fig.colorbar(mesh, ax=axes["entropy"], label="entropy of P(next) (nats; 0 = certain)")
    W_E = to_numpy(model.W_E)
    kinds = [token_colour(rule, token) for token in range(rule.d_vocab)]
    for name, ax in axes.items():
        if t is None or name == "entropy":
            for token in range(rule.d_vocab):
                ax.plot(*values[token].T, color="black", linewidth=0.5, alpha=0.6)
                ax.scatter(*values[token].T, color="black", marker="x", s=10, linewidths=0.8)
            for token in range(rule.d_vocab):
                c = token_colour(rule, token)
                ax.scatter(*W_E[token], color=c, marker=KIND_MARKER[c], s=40, edgecolors="white", linewidths=0.8)
            ends = values[:, -1]
            for group in groups_of(ends, kinds, 0.04 * float(np.ptp(ends, axis=0).max())):  # the odd numbers: one
                names = ",".join(rule.vocab[k] for k in group)
                label(ax, f"v({names})", ends[group[0]], anchors=[values[group[0], 0]], box=WHITE_BOX)
            for group in groups_of(W_E, kinds, 0.04 * float(np.ptp(W_E, axis=0).max())):
                c = kinds[group[0]]
                names = ",".join(rule.vocab[k] for k in group)
                box = dict(boxstyle="round,pad=0.15", facecolor=c, linewidth=0)
                label(ax, names, W_E[group[0]], colour=text_colour(c), fontsize=TEXT + 1, box=box)
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(ys[0], ys[-1])
        ax.tick_params(labelsize=TEXT)
    if t is not None:
        correct = correct_predictions(rule, window, t.probs, full)
        for (x0, y0), (x1, y1) in zip(t.embed, t.resid_mid, strict=True):
            axes["argmax"].annotate(
                "", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="-|>", color="black", lw=1.6, shrinkA=0, shrinkB=0)
            )
        for p, ((x1, y1), c) in enumerate(zip(t.resid_mid, correct, strict=True)):
            name = f"{rule.vocab[window[p]]}_{p}" + ("" if c is None else " " + verdict_mark(c))
            label(axes["argmax"], name, (x1, y1), box=WHITE_BOX)
        axes["argmax"].set_title(f"'{rule.decode(window)}': x → x + attention output on the argmax map", fontsize=10)
    else:
        axes["argmax"].set_title(
            "The predicted next token at each point (argmax), with W_E and the values ×", fontsize=10
        )
    if "entropy" in axes:
        axes["entropy"].set_title("How sure: entropy of the prediction, with W_E and the values ×", fontsize=10)
    return fig
