"""Argmax maps of a planar model (`glassbox.plots.planar`): the token predicted at each point of the plane after
attention, each region named inside it — the seed's summary in two maps (argmax and entropy, 06_2) or with one
window's arrows (15_2), and the argmax map with and without the MLP (`mlp_landscapes`, chapter 6's "What the MLP
adds")."""

from __future__ import annotations

import matplotlib
import numpy as np
import torch
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
from glassbox.plots.core import figure, mosaic, text_colour, verdict_mark
from glassbox.plots.planar.labels import label
from glassbox.plots.planar.landscapes import WHITE_BOX
from glassbox.plots.planar.style import (
    KIND_MARKER,
    LANDSCAPE,
    PLUS,
    TEXT,
    groups_of,
    token_colour,
)
from glassbox.rules.definitions import Rule


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


def _fits(free: np.ndarray, half_rows: int, half_cols: int) -> np.ndarray:
    """Where a box of (2 half_rows + 1) × (2 half_cols + 1) pixels centred on the pixel lies wholly on `free` pixels
    (a boolean [rows, cols] mask; the map's frame counts as not free), by an integral image: [rows, cols] bool."""
    rows, cols = free.shape
    total = np.zeros((rows + 1, cols + 1))
    total[1:, 1:] = free.cumsum(0).cumsum(1)
    r, c = np.arange(rows)[:, None], np.arange(cols)[None, :]
    r0, r1 = np.clip(r - half_rows, 0, rows), np.clip(r + half_rows + 1, 0, rows)
    c0, c1 = np.clip(c - half_cols, 0, cols), np.clip(c + half_cols + 1, 0, cols)
    count = total[r1, c1] - total[r0, c1] - total[r1, c0] + total[r0, c0]
    return free & (count == (2 * half_rows + 1) * (2 * half_cols + 1))


def region_label_points(
    best: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    label_sizes: dict[int, tuple[float, float]],
    obstacles: np.ndarray | None = None,
    obstacle_size: tuple[float, float] = (0.0, 0.0),
    min_pixels: int = 1,
) -> dict[int, tuple[float, float, float]]:
    """Where to write each region's name on an argmax map `best` [len(ys), len(xs)] (a token per pixel): the centre
    of the largest box of the label's shape (`label_sizes[token]`, its width and height in data units; a token not in
    it gets no name) that fits in the region, clear of `obstacles` ([n, 2] points in data units, each a box of
    `obstacle_size`). That is the point farthest from the region's edge, the map's frame and the markers, measured
    in the label's proportions, so that a thin diagonal band gets its name along its middle, never in a neighbour.
    Regions of fewer than `min_pixels` pixels get no name. Returns {token: (x, y, scale)}: each point a pixel of its
    own region, and the largest box that fits there as a multiple of the label's size (1 or more: the whole label
    fits). Numpy only (no scipy distance transform)."""
    dx, dy = abs(xs[1] - xs[0]), abs(ys[1] - ys[0])
    blocked = np.zeros(best.shape, bool)
    if obstacles is not None and len(obstacles):
        ox, oy = max(0, round(obstacle_size[0] / 2 / dx)), max(0, round(obstacle_size[1] / 2 / dy))
        cols = np.round((obstacles[:, 0] - xs[0]) / (xs[1] - xs[0])).astype(int)
        rows = np.round((obstacles[:, 1] - ys[0]) / (ys[1] - ys[0])).astype(int)
        for r, c in zip(rows, cols, strict=True):
            blocked[max(0, r - oy) : max(0, r + oy + 1), max(0, c - ox) : max(0, c + ox + 1)] = True
    points = {}
    for token in np.unique(best):
        region = best == token
        if int(token) not in label_sizes or region.sum() < min_pixels:
            continue
        half_w, half_h = label_sizes[int(token)][0] / 2 / dx, label_sizes[int(token)][1] / 2 / dy  # in pixels
        free = region & ~blocked
        if not free.any():
            free = region  # covered by markers all over: the region's middle, markers or not
        fitting, scale = free, 0.0
        while True:  # grow the box until no centre is left; keep the centres of the last box that fitted
            grown = _fits(free, round((scale + 0.1) * half_h), round((scale + 0.1) * half_w))
            if not grown.any() or scale > 50:
                break
            fitting, scale = grown, scale + 0.1
        rows, cols = np.nonzero(fitting)
        middle = np.array([rows.mean(), cols.mean()])
        k = int(np.argmin((rows - middle[0]) ** 2 + (cols - middle[1]) ** 2))  # of those centres, the most central
        points[int(token)] = (float(xs[cols[k]]), float(ys[rows[k]]), scale)
    return points


def _axes_inches(ax: Axes) -> tuple[float, float]:
    """The size of `ax` in inches as laid out so far (constrained layout moves it a little when drawing)."""
    box = ax.get_position()
    width, height = ax.figure.get_size_inches()
    return box.width * width, box.height * height


def _argmax_map(ax: Axes, rule: Rule, xs: np.ndarray, ys: np.ndarray, best: np.ndarray, marks: np.ndarray) -> None:
    """Draw the argmax map `best` [len(ys), len(xs)] on `ax` in the tokens' colours (`_token_palette`), each region
    named "→ t" at the point of it farthest from its edge and from `marks` ([n, 2]: the markers and paths drawn on
    the map); a region too thin for its name gets it on a box of its colour beside that point (placed by `label`,
    with a leader line when far), and slivers (fewer pixels than the map has columns) stay unnamed."""
    palette = _token_palette(rule)
    ax.pcolormesh(
        xs,
        ys,
        best,
        cmap=matplotlib.colors.ListedColormap(palette),
        vmin=-0.5,
        vmax=rule.d_vocab - 0.5,
        shading="auto",
        rasterized=True,
    )
    width, height = _axes_inches(ax)
    per_point = np.array([xs[-1] - xs[0], ys[-1] - ys[0]]) / np.array([width, height]) / 72  # data units a point
    names = {int(token): f"→ {rule.vocab[token]}" for token in np.unique(best)}
    sizes = {  # bold text, and 2 pt clear of the region's edge all round
        token: tuple((0.65 * (TEXT + 1) * len(name) + 4, 1.3 * (TEXT + 1) + 4) * per_point)
        for token, name in names.items()
    }
    centres = region_label_points(best, xs, ys, sizes, marks, tuple(9 * per_point), min_pixels=len(xs))
    for token, (x, y, scale) in centres.items():
        colour = text_colour(palette[token])
        if scale >= 1:  # the name fits inside its region, clear of its edge: written there
            ax.text(x, y, names[token], fontsize=TEXT + 1, ha="center", va="center", color=colour, fontweight="bold")
        else:  # a thin wedge: a name on a box of the region's colour beside it, off the markers and other names
            box = dict(boxstyle="round,pad=0.15", facecolor=palette[token], edgecolor="white", linewidth=0.6)
            label(ax, names[token], (x, y), colour=colour, fontsize=TEXT + 1, box=box, fontweight="bold")


def _marks_of_paths(paths: np.ndarray, per_segment: int = 6) -> np.ndarray:
    """Points along every path of `paths` [n_paths, n_points, 2] (its markers and `per_segment` points on each segment
    between them), [m, 2]: what a region's name should keep off."""
    along = np.linspace(0, 1, per_segment)[:, None, None, None]
    return (paths[:, :-1] + along * (paths[:, 1:] - paths[:, :-1])).reshape(-1, 2)


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
    # what the map carries, as points its region names keep off: W_E and the values' paths, or the window's arrows
    W_E = to_numpy(model.W_E)
    if t is None:
        marks = np.concatenate([W_E, _marks_of_paths(values)])
    else:
        marks = _marks_of_paths(np.stack([t.embed, t.resid_mid], axis=1), 25)
    _argmax_map(axes["argmax"], rule, xs, ys, best, marks)
    if "entropy" in axes:
        mesh = axes["entropy"].pcolormesh(xs, ys, entropy, cmap=LANDSCAPE, vmin=0.0, shading="auto", rasterized=True)
        fig.colorbar(mesh, ax=axes["entropy"], label="entropy of P(next) (nats; 0 = certain)")
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


@torch.no_grad()
def _unembedded(model: Transformer, resid: Tensor) -> Tensor:
    """P(next token) for residual vectors [..., d_model] read out directly: `ln_final`, then the unembedding, as the
    forward pass reads the stream (`output_probabilities` without the MLP before it)."""
    logits = model.unembed(model.ln_final(resid.reshape(1, -1, resid.shape[-1])))
    return logits.reshape(*resid.shape[:-1], -1).softmax(-1)


def mlp_landscapes(model: Transformer, rule: Rule, *, resolution: int = 150) -> Figure:
    """What the MLP adds to the read-out, in two argmax maps side by side on one plane (the stream right after
    attention; the same colours and extent as `landscape_summary`): left, the token the trained model predicts at
    each point (MLP, residual, unembedding); right, the same with the MLP's output zeroed (`analysis.planar.without_mlp`
    in a forward pass), so the point is unembedded directly — a linear map followed by a softmax, whose regions are
    straight-edged wedges meeting at one point. Both carry the values of the even numbers, v(even) (×, one path per
    token, from position 0 to the last): where attention moves a `+` that attends to that even number."""
    require_2d(model)
    x = to_numpy(token_positions(model))
    values = to_numpy(head(model, token_positions(model), "v"))
    xs, ys, grid = plane_grid(np.concatenate([x.reshape(-1, 2), values.reshape(-1, 2)]), resolution, margin=0.08)
    maps = {
        "with the MLP (the trained model)": output_probabilities(model, grid),
        "MLP output zeroed: unembedded directly": _unembedded(model, grid),
    }
    fig, axes = figure(2, 1, width=3.5, height=3.9)
    evens = [t for t in rule.numbers if t % 2 == 0]
    even_values = values[evens]
    for ax, (title, probs) in zip(axes, maps.items(), strict=True):
        best = to_numpy(probs).reshape(resolution, resolution, -1).argmax(-1)
        _argmax_map(ax, rule, xs, ys, best, _marks_of_paths(even_values))
        for path in even_values:
            ax.plot(*path.T, color="black", linewidth=0.5, alpha=0.6)
            ax.scatter(*path.T, color="black", marker="x", s=10, linewidths=0.8)
        for token, path in zip(evens, even_values, strict=True):
            label(ax, f"v({rule.vocab[token]})", path[-1], anchors=[path[0]], box=WHITE_BOX)
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(ys[0], ys[-1])
        ax.set_title(title, fontsize=TEXT + 1)
        ax.set_xlabel("dimension 0", fontsize=TEXT)
        ax.tick_params(labelsize=TEXT)
        ax.locator_params(nbins=5)
    axes[0].set_ylabel("dimension 1", fontsize=TEXT)
    axes[1].tick_params(labelleft=False)
    fig.suptitle("The predicted next token after attention (→ t: its region), and the values v(even) ×", fontsize=10)
    return fig
