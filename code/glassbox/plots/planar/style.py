"""The style every figure of Part III's planar models shares (`glassbox.plots.planar`): token colours by kind (even
numbers blue, odd numbers orange, `+` purple, in Okabe–Ito colours, with a marker shape per kind as a second cue),
the text size, and the small drawing helpers (labelled points, one path per token, the kind legend, axes titles).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes

from glassbox.analysis.planar import (
    to_numpy,
    token_positions,
)
from glassbox.model import Transformer
from glassbox.plots.planar.labels import label
from glassbox.rules.definitions import Rule

# token kinds in Okabe–Ito colours (told apart with any colour vision) and, as a second cue, by marker shape
EVEN, ODD, PLUS = "#0072B2", "#E69F00", "#CC79A7"
KIND_MARKER = {EVEN: "o", ODD: "s", PLUS: "P"}
LANDSCAPE = "viridis"
TEXT = 8.0  # points: annotations in figures no wider than the page's column stay legible (core.MIN_POINTS)


# ---------------------------------------------------------------------------------------------- helpers
def token_colour(rule: Rule, token: int) -> str:
    """Blue for even numbers, orange for odd ones, purple for `+`."""
    if rule.has_plus and token == rule.plus:
        return PLUS
    return EVEN if token % 2 == 0 else ODD


def groups_of(points: np.ndarray, colours: Sequence[str], near: float) -> list[list[int]]:
    """Indices of `points` grouped where points of one colour lie closer than `near` to a group's first point: the
    points one label names together (the odd numbers, which the model bunches, get one label "1,3,5,7,9")."""
    groups: list[list[int]] = []
    for i, point in enumerate(points):
        if not np.isfinite(point).all():
            continue
        for group in groups:
            if colours[group[0]] == colours[i] and np.linalg.norm(points[group[0]] - point) < near:
                group.append(i)
                break
        else:
            groups.append([i])
    return groups


def _span(points: np.ndarray) -> float:
    finite = points[np.isfinite(points).all(-1)]
    return float(np.ptp(finite, axis=0).max()) if len(finite) else 0.0


def _scatter_labels(
    ax: Axes,
    points: np.ndarray,
    labels: Sequence[str],
    colours: Sequence[str],
    *,
    fontsize: float | int = TEXT,
    alpha: float | int = 1.0,
    marker_size: float | int = 16,
) -> None:
    """Points, each named; points that (nearly) coincide share one label, and labels keep off the markers."""
    ax.scatter(points[:, 0], points[:, 1], c=list(colours), s=marker_size, alpha=alpha, linewidths=0)
    for group in groups_of(points, colours, 0.03 * _span(points)):
        names = list(dict.fromkeys(labels[i] for i in group))  # a token twice in a window is named once
        text = ",".join(names)
        label(ax, text, points[group[0]], colour=colours[group[0]], fontsize=fontsize, alpha=alpha)


def _token_paths(
    ax: Axes, points: np.ndarray, rule: Rule, *, colour: str | None = None, marker: str | None = None, prefix: str = ""
) -> None:
    """Every token's points at positions 0 … n_ctx-1 ([V, n_ctx, 2]) as one path, from a hollow marker (position 0)
    to filled ones, named once at its last or its first drawn position (a masked position is NaN), wherever the name
    covers less: 12 labels instead of 96, placed off the markers. Tokens whose labels would fall on one spot (the
    odd numbers, which the model bunches) share one label, "1,3,5"."""
    ends, starts, colours = [], [], []
    for t in range(rule.d_vocab):
        c = colour or token_colour(rule, t)
        m = marker or KIND_MARKER[token_colour(rule, t)]
        path = points[t]
        ax.plot(path[:, 0], path[:, 1], color=c, linewidth=0.8, alpha=0.6)
        ax.scatter(path[1:, 0], path[1:, 1], color=c, marker=m, s=14, linewidths=0)
        ax.scatter(*path[0], facecolor="white", edgecolor=c, marker=m, s=22, linewidths=1.0)
        drawn = path[np.isfinite(path).all(-1)]
        ends.append(drawn[-1] if len(drawn) else np.full(2, np.nan))
        starts.append(drawn[0] if len(drawn) else np.full(2, np.nan))
        colours.append(c)
    ends = np.array(ends)
    for group in groups_of(ends, colours, 0.04 * _span(points.reshape(-1, 2))):
        names = prefix + ",".join(rule.vocab[t] for t in group)
        label(ax, names, ends[group[0]], anchors=[starts[group[0]]], colour=colours[group[0]])


def _grid_points(model: Transformer, rule: Rule) -> tuple[np.ndarray, list[str], list[str]]:
    """All token+position points [V*n_ctx, 2], labelled "t_p" and coloured by token."""
    points = to_numpy(token_positions(model)).reshape(-1, 2)
    labels = [f"{rule.vocab[t]}_{p}" for t in range(rule.d_vocab) for p in range(model.cfg.n_ctx)]
    colours = [token_colour(rule, t) for t in range(rule.d_vocab) for _ in range(model.cfg.n_ctx)]
    return points, labels, colours


def _kind_handles(rule: Rule, *, paths: bool = False) -> list[matplotlib.lines.Line2D]:
    """Legend entries for the token kinds (marker and colour), and with `paths` for a path from position 0."""
    kinds = [(EVEN, "even"), (ODD, "odd")] + ([(PLUS, "+")] if rule.has_plus else [])
    handles = [
        matplotlib.lines.Line2D([], [], marker=KIND_MARKER[c], linestyle="", color=c, label=kind) for c, kind in kinds
    ]
    if paths:
        handles.append(
            matplotlib.lines.Line2D(
                [], [], marker="o", linestyle="-", color="0.4", markerfacecolor="white", label="path from position 0"
            )
        )
    return handles


def _kind_legend(ax: Axes, rule: Rule, *, paths: bool = False) -> None:
    ax.legend(handles=_kind_handles(rule, paths=paths), fontsize=TEXT, loc="best")


def _finish(ax: Axes, title: str, xlabel: str = "dimension 0", ylabel: str = "dimension 1") -> None:
    ax.set_title(title, fontsize=10)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.tick_params(labelsize=TEXT)
    ax.grid(alpha=0.25)
