"""What a figure shows, read back from its artists, so that a figure test can fail on an empty or wrong figure:
an empty figure has no text too small and nothing cut off, so legibility checks alone pass on it."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle


def panels(fig: Figure) -> list:
    """The axes that draw data (colour bars and empty axes left out)."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>" and drawn(ax)]


def drawn(ax) -> int:
    """How many data artists an axes holds: images, lines with points, patches (bars, arrows, polygons), collections
    with something in them (meshes, scatters, contours, filled regions)."""
    lines = [line for line in ax.get_lines() if len(np.atleast_1d(line.get_xdata())) > 0]
    patches = [p for p in ax.patches if not isinstance(p, Rectangle) or p.get_width() or p.get_height()]
    collections = [c for c in ax.collections if len(c.get_paths()) or len(c.get_offsets())]
    return len(ax.images) + len(lines) + len(patches) + len(collections)


def images(fig: Figure) -> list[np.ndarray]:
    """The arrays of every image drawn with imshow, panel by panel."""
    return [np.asarray(image.get_array()) for ax in panels(fig) for image in ax.images]


def line_data(ax) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)) for line in ax.get_lines()]


def bar_lengths(ax) -> list[float]:
    """Bar heights (vertical bars) or widths (horizontal bars), in drawing order."""
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    horizontal = bars and all(abs(b.get_height() - bars[0].get_height()) < 1e-9 for b in bars) and len(bars) > 1
    return [b.get_width() if horizontal else b.get_height() for b in bars]


def tick_texts(ax, axis: str) -> list[str]:
    ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in ticks]


def assert_shows_something(fig: Figure, n_panels: int | None = None, name: str = "the figure") -> None:
    """The figure has at least one panel with data in it (and exactly `n_panels` when given)."""
    shown = panels(fig)
    assert shown, f"{name} draws nothing"
    if n_panels is not None:
        assert len(shown) == n_panels, f"{len(shown)} panels with data, expected {n_panels}"
