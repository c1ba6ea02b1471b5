"""Part IV figures (chapters 8–11): per-head score grids, attention patterns, circuits, rankings, training phases.

Figures of several panels put at most two in a row (`panels`), so that the page shows them at the size their text is
written (≥ 8 pt); four heads in one row would be shown at half size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from jaxtyping import Float
from matplotlib.figure import Figure
from torch import Tensor

from glassbox.plots.core import COLUMN_INCHES, figure, heatmap, panels


def head_scores(
    scores: Mapping[str, Float[Tensor, "row col"]],
    *,
    vmin: float = 0.0,
    vmax: float | None = 1.0,
    fmt: str = ".2f",
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    ylabel: str = "layer",
    xlabel: str = "head",
) -> Figure:
    """One annotated grid per named score, by default layer × head (e.g. previous-token and induction scores); pass
    `row_labels`/`col_labels` and the axis labels for other grids (head × head, layer-0 head × layer-1 head). With
    `vmax=None` each grid's colours run up to its own largest value."""
    if not scores:
        raise ValueError("head_scores needs at least one named score")
    largest = max(max(grid.shape) for grid in scores.values())
    narrow = max(grid.shape[1] for grid in scores.values()) <= 4
    per_row = 3 if narrow and len(scores) % 3 == 0 else 2  # three narrow grids fit one row; four make a square
    fig, axes = panels(len(scores), height=2.4 + 0.15 * largest, width=COLUMN_INCHES / per_row, max_cols=per_row)
    for ax, (title, grid) in zip(axes, scores.items(), strict=True):
        grid = grid.detach()
        n_rows, n_cols = grid.shape
        rows = [f"L{layer}" for layer in range(n_rows)] if row_labels is None else list(row_labels)
        cols = [f"H{h}" for h in range(n_cols)] if col_labels is None else list(col_labels)
        if (len(rows), len(cols)) != (n_rows, n_cols):
            raise ValueError(f"{title!r} is {n_rows} × {n_cols} but got {len(rows)} row and {len(cols)} column labels")
        heatmap(
            ax,
            grid,
            row_labels=rows,
            col_labels=cols,
            annotate=True,
            fmt=fmt,
            vmin=vmin,
            vmax=float(grid.max()) if vmax is None else vmax,
            colorbar=False,
            fontsize=9.0 if max(n_rows, n_cols) <= 6 else 8.0,
        )
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return fig


def attention_patterns(
    patterns: Sequence[Float[Tensor, "query key"]], titles: Sequence[str], labels: Sequence[str] | None = None
) -> Figure:
    """Attention patterns two to a row, three for a dozen tokens or fewer (query rows, key columns): the static
    fallback of circuitsvis. With `labels`,
    each query row is named by its token (up to 40 tokens, at 8 pt: the panel grows with them); key columns are
    named by token up to 16 tokens and by position beyond (a row of 40 rotated characters cannot be read)."""
    if len(patterns) != len(titles) or not patterns:
        raise ValueError(f"need one title per pattern, got {len(patterns)} patterns and {len(titles)} titles")
    n = patterns[0].shape[-1]
    if labels is not None and len(labels) != n:
        raise ValueError(f"{len(labels)} labels for patterns over {n} tokens")
    named = labels is not None and n <= 40
    per_row = 3 if n <= 12 and len(patterns) >= 3 else 2  # a dozen tokens still read at 8 pt in a third of the column
    height = (max(3.4, 0.13 * n + 1.3) if named else 3.4) * (0.75 if per_row == 3 else 1.0)
    fig, axes = panels(len(patterns), height=height, width=COLUMN_INCHES / per_row, max_cols=per_row)
    shown = [repr(t)[1:-1].replace(" ", "␣") or "∅" for t in labels] if named else []  # a space must not vanish
    for ax, pattern, title in zip(axes, patterns, titles, strict=True):
        heatmap(ax, pattern, vmin=0.0, vmax=1.0, colorbar=False)
        if named:
            ax.set_yticks(range(n), labels=shown, fontsize=8, fontfamily="monospace")
            if n <= 16:
                ax.set_xticks(range(n), labels=shown, fontsize=8, rotation=90)
            else:
                ax.set_xticks(range(0, n, 5))
        ax.set(title=title, xlabel="key position", ylabel="query (its token)" if named else "query position")
    return fig


def matrix(values: Float[Tensor, "rows cols"], *, title: str, xlabel: str, ylabel: str, cmap: str = "RdBu_r") -> Figure:
    """A full (e.g. QK or OV circuit) matrix, coloured symmetrically around zero."""
    fig, (ax,) = figure(width=4.6, height=4.0)
    values = values.detach()
    limit = float(values.nan_to_num().abs().max()) or 1.0
    heatmap(ax, values, cmap=cmap, vmin=-limit, vmax=limit)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return fig


def ranked_bars(names: Sequence[str], values: Float[Tensor, "n"], *, xlabel: str) -> Figure:
    """Horizontal bars, largest first (e.g. components ranked by the effect of ablating them) — every item: a ranking
    that silently dropped its tail would hide the small values a caption may point at."""
    if len(names) != len(values):
        raise ValueError(f"need one value per name, got {len(names)} names and {len(values)} values")
    names, values = list(names), torch.as_tensor(values).detach()
    fig, (ax,) = figure(width=5.0, height=(0.3 if len(names) <= 14 else 0.22) * len(names) + 1.2)
    ax.barh(range(len(names)), values.numpy(), color=["C3" if v > 0 else "C0" for v in values])
    ax.set_yticks(range(len(names)), labels=names)
    ax.invert_yaxis()
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel(xlabel)
    return fig


def phase_change(
    steps: Sequence[int],
    losses: Mapping[str, Sequence[float]],
    scores: Mapping[str, Sequence[float]],
    *,
    uniform_loss: float,
    mark: int | None = None,
) -> Figure:
    """Losses (left) and head scores (right) against training step, with the uniform loss and a marked step."""
    fig, (left, right) = panels(2, height=3.2)
    for name, values in losses.items():
        left.plot(steps, values, label=name)
    left.axhline(uniform_loss, color="0.5", ls=":", label="uniform guess")
    left.set(xlabel="training step", ylabel="loss (nats)", title="loss on repeated random tokens")
    for name, values in scores.items():
        right.plot(steps, values, label=name)
    right.set(xlabel="training step", ylabel="score", title="best head's score", ylim=(0, 1))
    for ax in (left, right):
        if mark is not None:
            ax.axvline(mark, color="0.3", ls="--", lw=0.8)
        ax.legend(fontsize=8)
    return fig


def layer_position_grid(
    values: Float[Tensor, "layer pos"], *, title: str, labels: Sequence[str] | None = None
) -> Figure:
    """A layer × position grid (e.g. recovery ratios of residual-stream patches), coloured around zero."""
    fig, (ax,) = figure(width=min(0.22 * values.shape[1] + 2.6, 7.0), height=0.5 * values.shape[0] + 1.8)
    limit = max(float(values.abs().max()), 1.0)
    heatmap(
        ax, values, row_labels=[f"L{layer}" for layer in range(values.shape[0])], cmap="RdBu_r", vmin=-limit, vmax=limit
    )
    if labels is not None:
        ax.set_xticks(range(len(labels)), labels=labels, fontsize=8, rotation=90)
    ax.set(title=title, xlabel="position", ylabel="residual stream entering layer")
    return fig


def lines(
    x: Sequence[int | float] | np.ndarray,
    series: Mapping[str, Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    title: str = "",
    xticks: Sequence[str] | None = None,
) -> Figure:
    """A few named lines against a shared x axis (e.g. a metric per layer, for two models)."""
    fig, (ax,) = figure(width=5.0, height=3.2)
    for name, values in series.items():
        ax.plot(x, np.asarray(values, dtype=float), marker="o", label=name)
    if xticks is not None:
        ax.set_xticks(list(x), labels=xticks)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    return fig


def matrices(
    values: Mapping[str, Float[Tensor, "rows cols"]],
    *,
    xlabel: str | Sequence[str],
    ylabel: str | Sequence[str],
    cmap: str = "RdBu_r",
) -> Figure:
    """Several full matrices, two to a row (e.g. OV and QK circuits), each with its own colour bar (their scales
    differ): coloured symmetrically around zero, or from 0 in one hue when a matrix has no negative entry (an
    attention pattern), so that no half of its colour bar goes unused. Axis labels: one for all, or one per matrix."""
    if not values:
        raise ValueError("matrices needs at least one named matrix")
    xlabels = [xlabel] * len(values) if isinstance(xlabel, str) else list(xlabel)
    ylabels = [ylabel] * len(values) if isinstance(ylabel, str) else list(ylabel)
    if len(xlabels) != len(values) or len(ylabels) != len(values):
        raise ValueError(f"{len(values)} matrices but {len(xlabels)} x labels and {len(ylabels)} y labels")
    fig, axes = panels(len(values), height=3.4)
    for ax, (title, grid), x, y in zip(axes, values.items(), xlabels, ylabels, strict=True):
        grid = grid.detach()
        limit = float(grid.nan_to_num().abs().max()) or 1.0
        if grid.nan_to_num().min() >= 0:
            heatmap(ax, grid, cmap="Reds", vmin=0.0, vmax=limit)  # probabilities: white at 0, red at the largest
        else:
            heatmap(ax, grid, cmap=cmap, vmin=-limit, vmax=limit)
        ax.set(title=title, xlabel=x, ylabel=y)
    return fig


def score_sources(grid: Float[Tensor, "q_source k_source"], labels: Sequence[str], title: str) -> Figure:
    """An attention score split by source (`circuits.decompose_attention_scores`): query sources as rows, key sources
    as columns, each cell annotated, on a diverging scale centred on zero with a colour bar."""
    if grid.shape != (len(labels), len(labels)):
        raise ValueError(f"a {tuple(grid.shape)} grid needs {grid.shape[0]} labels, got {len(labels)}")
    fig, (ax,) = figure(width=COLUMN_INCHES * 0.75, height=COLUMN_INCHES * 0.62)
    heatmap(ax, grid, row_labels=list(labels), col_labels=list(labels), annotate=True, fmt=".1f", cmap="RdBu_r",
            colorbar=True, fontsize=8.0)  # fmt: skip
    ax.set(title=title, xlabel="key side: source", ylabel="query side: source")
    ax.tick_params(axis="x", labelrotation=45)
    return fig
