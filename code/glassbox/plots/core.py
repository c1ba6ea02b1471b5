"""Shared figure helpers: a constrained-layout figure and an annotated heatmap on an axis."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image


class BookFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG in Jupyter and Colab without pyplot's global state."""

    def _repr_png_(self) -> bytes:
        """The figure as a PNG with a palette of at most 128 colours: plots have few colours, and an indexed PNG
        is about a third the size of a full-colour one, which keeps figure-heavy pages light."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=self.dpi)
        image = (
            Image.open(buffer).convert("RGB").quantize(128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        )
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()


def figure(ncols: int = 1, nrows: int = 1, *, width: float = 4.2, height: float = 3.4) -> tuple[Figure, np.ndarray]:
    """A figure with a grid of axes, sized per panel; axes come back as a flat array."""
    fig = BookFigure(figsize=(width * ncols, height * nrows), layout="constrained", dpi=100)
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
        for (i, j), value in np.ndenumerate(values):
            text = "−∞" if value == -np.inf else format(value, fmt)
            dark_cell = np.isfinite(value) and image.norm(value) > 0.6  # white text on the dark end of the map
            ax.text(j, i, text, ha="center", va="center", fontsize=9, color="white" if dark_cell else "black")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8)
