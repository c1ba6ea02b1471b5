"""The figure style shared by every module of `glassbox.plots`.

- `BookFigure` renders at twice the resolution it is shown at (sharp on high-DPI screens) and tells the page its
  display width. It stores a 256-colour palette only when no pixel moves by more than `PALETTE_TOLERANCE` (a
  shade nobody can see; a colour scale keeps its hues, unlike the old 128-colour palette that turned viridis's top
  orange), else full colour: a page of landscapes weighs a third as much.
- `figure` sizes figures for a column about 700 px wide (`COLUMN_INCHES`: a notebook's output area in Jupyter or
  Colab, and the book's content column), so that text written at
  `MIN_POINTS` or more stays at least that large when shown; `smallest_text` measures it for tests.
- `heatmap` annotates cells with a text colour chosen from the cell's own luminance (`text_colour`), and centres
  diverging maps on zero with a colour bar (`diverging_norm`).
- `RIGHT`/`WRONG`/`FREE` are colour-blind-safe (Okabe–Ito sky blue and vermilion, which differ in lightness
  too, and grey), and `verdict_mark`/`verdict_marker` give the second cue (✓/✗/·, or a marker shape) to draw beside
  the colour wherever colour says right or wrong.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import CenteredNorm, Colormap, Normalize
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

COLUMN_INCHES = 7.0  # a notebook's output column: ~700 CSS px (at 100 px per inch), the book's at a 1280 px window
PIXELS_PER_INCH = 100  # CSS px per figure inch when a figure is shown unscaled
HIDPI = 2  # device pixels per CSS pixel the PNG carries (retina screens)
MIN_POINTS = 8.0  # the smallest text, in points at the size the page shows it
PALETTE_TOLERANCE = 20  # the largest change of any pixel's channel (of 255) a 256-colour palette may make
DIVERGING = ("RdBu_r", "RdBu", "coolwarm", "bwr", "seismic", "PuOr", "PuOr_r", "BrBG", "PiYG", "PRGn", "RdYlBu")

# right/wrong/free from Okabe & Ito's palette for every common colour-vision deficiency; sky blue and vermilion
# differ in lightness as well as hue, and `verdict_mark` adds a shape, so the distinction never rests on hue alone
RIGHT, WRONG, FREE = "#56B4E9", "#D55E00", "#BBBBBB"
# Okabe & Ito's eight colours, for categories told apart by colour alone (every pair stays distinct to a deuteranope)
OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermilion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}


def verdict_mark(correct: bool | None) -> str:
    """The second cue beside the colour: ✓ right, ✗ wrong, · free (the rule fixes nothing there)."""
    return "·" if correct is None else ("✓" if correct else "✗")


def verdict_colour(correct: bool | None) -> str:
    """`RIGHT`, `WRONG` or `FREE` for a prediction that is right, wrong or unconstrained (None)."""
    return FREE if correct is None else (RIGHT if correct else WRONG)


def verdict_marker(correct: bool | None) -> str:
    """A marker shape for scatter plots: circle right, cross wrong, small dot free."""
    return "." if correct is None else ("o" if correct else "X")


class BookFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG in Jupyter and Colab without pyplot's global state.

    The PNG has `HIDPI` device pixels per CSS pixel and carries its display width as output metadata, so a page
    shows it at `display_pixels` wide (at most the content column) and a high-DPI screen uses every pixel."""

    def display_pixels(self) -> int:
        """The width the page shows this figure at, in CSS pixels (never more than the content column)."""
        return round(min(self.get_figwidth(), COLUMN_INCHES) * PIXELS_PER_INCH)

    def png(self) -> bytes:
        """The figure as a PNG, `HIDPI` × its display width in pixels: paletted when that is faithful."""
        buffer = io.BytesIO()
        dpi = HIDPI * self.display_pixels() / self.get_figwidth()
        self.savefig(buffer, format="png", dpi=dpi)
        return faithful_palette(buffer.getvalue())

    def _repr_png_(self) -> bytes:
        return self.png()

    def _repr_mimebundle_(self, include=None, exclude=None) -> tuple[dict, dict]:
        """The PNG with its display size, so Jupyter, Colab and the book show it at `display_pixels`, not at
        its pixel width (which is `HIDPI` times that)."""
        width = self.display_pixels()
        height = round(width * self.get_figheight() / self.get_figwidth())
        return {"image/png": self.png()}, {"image/png": {"width": width, "height": height}}


def faithful_palette(png: bytes, tolerance: int = PALETTE_TOLERANCE) -> bytes:
    """`png` with at most 256 colours (no dithering) if no pixel's channel moves by more than `tolerance`, and the
    smaller of the two; else `png` unchanged. Figures are mostly flat colour, text and one colour map of 256
    entries, so a palette usually fits them to within a few levels and a third of the bytes."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    paletted = image.quantize(256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE)
    change = np.abs(np.asarray(paletted.convert("RGB"), dtype=np.int16) - np.asarray(image, dtype=np.int16))
    if change.max() > tolerance:
        return png
    buffer = io.BytesIO()
    paletted.save(buffer, format="png")
    return min(png, buffer.getvalue(), key=len)


def png_bytes(fig: Figure) -> bytes:
    """A figure's PNG as the page shows it (`BookFigure.png`), for writing to a file."""
    return fig.png() if isinstance(fig, BookFigure) else _plain_png(fig)


def _plain_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=HIDPI * PIXELS_PER_INCH)
    return buffer.getvalue()


def display_scale(fig: Figure) -> float:
    """How much the page shrinks `fig`: 1 when it fits the content column, less when it is wider."""
    return min(1.0, COLUMN_INCHES / fig.get_figwidth())


def smallest_text(fig: Figure) -> tuple[float, str]:
    """The smallest visible text of `fig` in points at the size the page shows it, and that text (tick labels,
    titles, annotations, legends, colour bars). Tests assert it is at least `MIN_POINTS`."""
    fig.canvas.draw()  # tick labels exist only once drawn
    scale = display_scale(fig)
    sizes = [
        (t.get_fontsize() * scale, t.get_text())
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and t.get_window_extent().width > 0
    ]
    return min(sizes, default=(float("inf"), ""))


def clipped_text(fig: Figure) -> list[str]:
    """The texts of `fig` that run past its edges (a label longer than its panel is wide): cut off on the page.
    Empty when everything drawn lies inside the figure; tests assert it is."""
    fig.draw_without_rendering()  # lay the figure out as saving it would
    renderer, edge = fig._get_renderer(), fig.bbox_inches
    drawn = fig.get_tightbbox(renderer)  # only what is drawn (not the tick labels matplotlib keeps off the axes)
    tolerance = 0.01  # inches: a pixel
    if (
        drawn.x0 >= -tolerance
        and drawn.y0 >= -tolerance
        and drawn.x1 <= edge.x1 + tolerance
        and drawn.y1 <= edge.y1 + tolerance
    ):
        return []
    outside = [
        t.get_text()
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip()
        for box in [t.get_window_extent(renderer).transformed(fig.dpi_scale_trans.inverted())]
        if box.width > 0
        and (box.x0 < -tolerance or box.y0 < -tolerance or box.x1 > edge.x1 + tolerance or box.y1 > edge.y1 + tolerance)
    ]
    return outside or [f"something drawn past the edge ({drawn.bounds} inside {edge.bounds} inches)"]


def figure(ncols: int = 1, nrows: int = 1, *, width: float = 4.2, height: float = 3.4) -> tuple[Figure, np.ndarray]:
    """A figure with a grid of axes, sized per panel; axes come back as a flat array."""
    fig = BookFigure(figsize=(width * ncols, height * nrows), layout="constrained", dpi=PIXELS_PER_INCH)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes.ravel()


def panels(n: int, *, height: float, width: float = COLUMN_INCHES / 2, max_cols: int = 2) -> tuple[Figure, list[Axes]]:
    """`n` panels of `width` × `height` inches, at most `max_cols` a row (rows fill left to right, the last row's
    empty places removed). Two 3.5-inch panels fill the content column at full size, so their text is shown at
    the size it is written; four in a row would be shown at half size."""
    if n < 1:
        raise ValueError(f"need at least one panel, got {n}")
    ncols = min(n, max_cols)
    fig, axes = figure(ncols, -(-n // ncols), width=width, height=height)
    for ax in axes[n:]:
        ax.remove()
    return fig, list(axes[:n])


def mosaic(layout: str | list[list[str]], *, width: float, height: float) -> tuple[Figure, dict[str, Axes]]:
    """A figure of `width` × `height` inches whose panels are named by `layout` (matplotlib's `subplot_mosaic`), for
    figures whose panels differ in size."""
    fig = BookFigure(figsize=(width, height), layout="constrained", dpi=PIXELS_PER_INCH)
    return fig, fig.subplot_mosaic(layout)


def luminance(rgba: Sequence[float | int] | np.ndarray) -> float:
    """Relative luminance (WCAG 2.1) of an sRGB colour given as floats in 0…1."""
    channels = np.asarray(rgba[:3], dtype=float)
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def text_colour(background: Sequence[float | int] | np.ndarray | str) -> str:
    """Black or white, whichever contrasts more with `background` (any matplotlib colour): the rule that works for
    every colour map, not only those dark at the top."""
    lum = luminance(matplotlib.colors.to_rgba(background))
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


def diverging_norm(
    values: np.ndarray | torch.Tensor, vmin: float | None = None, vmax: float | None = None
) -> Normalize:
    """A norm centred on zero whose half-range covers the largest |value| (or `vmin`/`vmax` if given), so equal
    magnitudes get equally strong colours: −2.4 as dark blue as +2.4 is dark red, and 0 white."""
    array = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values, dtype=float)
    finite = array[np.isfinite(array)]
    half = max([abs(v) for v in (vmin, vmax) if v is not None], default=float(np.abs(finite).max(initial=0.0)))
    return CenteredNorm(0.0, halfrange=half or 1.0)


def is_diverging(cmap: str | Colormap) -> bool:
    """Whether `cmap` is one of the diverging maps `heatmap` centres on zero."""
    return (cmap if isinstance(cmap, str) else cmap.name) in DIVERGING


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
    fontsize: float = 9,
) -> None:
    """Draw `matrix` on `ax` with labelled rows and columns, optionally writing each value in its cell in black or
    white by the cell's luminance. A diverging `cmap` (`DIVERGING`) is centred on zero (white), its half-range the
    largest |value| or |vmin|, |vmax|; give it a colour bar (here, or one shared by the figure) so that a reader can
    tell which colour is zero."""
    values = matrix.detach().cpu().numpy() if isinstance(matrix, torch.Tensor) else np.asarray(matrix)
    colours = matplotlib.colormaps[cmap].with_extremes(bad="0.85")  # masked (−∞) cells in light grey
    masked = np.ma.masked_invalid(values)
    if is_diverging(cmap):
        image = ax.imshow(masked, cmap=colours, norm=diverging_norm(values, vmin, vmax), aspect="auto")
    else:
        image = ax.imshow(masked, cmap=colours, vmin=vmin, vmax=vmax, aspect="auto")
    if row_labels is not None:
        ax.set_yticks(range(len(row_labels)), labels=row_labels)
    if col_labels is not None:
        ax.set_xticks(range(len(col_labels)), labels=col_labels)
    if annotate:
        for (i, j), value in np.ndenumerate(values):
            finite = np.isfinite(value)
            text = ("−∞" if value == -np.inf else "") if not finite else format(value, fmt).replace("-", "−")
            background = image.cmap(image.norm(value)) if finite else (0.85, 0.85, 0.85)
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize, color=text_colour(background))
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8)
