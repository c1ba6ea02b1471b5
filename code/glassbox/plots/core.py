"""Shared figure helpers: a constrained-layout figure and an annotated heatmap on an axis."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def figure(ncols: int = 1, nrows: int = 1, *, width: float = 4.2, height: float = 3.4) -> tuple[Figure, np.ndarray]:
    """A figure with a grid of axes, sized per panel; axes come back as a flat array."""
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained", dpi=100)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes.ravel()


def heatmap(
    ax: Axes,
    matrix: torch.Tensor | np.ndarray,
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    annotate: bool = False,
    fmt: str = ".2f",
    cmap: str = "Blues",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
) -> None:
    """Draw `matrix` on `ax` with labelled rows and columns, optionally writing each value in its cell."""
    values = matrix.detach().cpu().numpy() if isinstance(matrix, torch.Tensor) else np.asarray(matrix)
    colours = matplotlib.colormaps[cmap].with_extremes(bad="0.85")  # masked (−∞) cells in light grey
    image = ax.imshow(np.ma.masked_invalid(values), cmap=colours, vmin=vmin, vmax=vmax, aspect="auto")
    if row_labels is not None:
        ax.set_yticks(range(len(row_labels)), labels=row_labels)
    if col_labels is not None:
        ax.set_xticks(range(len(col_labels)), labels=col_labels)
    if annotate:
        finite = values[np.isfinite(values)]
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for (i, j), value in np.ndenumerate(values):
            text = "−∞" if value == -np.inf else format(value, fmt)
            colour = "white" if np.isfinite(value) and value > middle and cmap == "Blues" else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=9, color=colour)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8)
