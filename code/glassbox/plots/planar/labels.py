"""Labels that keep off the markers and off each other (`glassbox.plots.planar`): `label(ax, text, xy)` names a point,
and where the text goes is decided when the figure is drawn — after its layout and axis limits are final — by trying
positions around the point, nearest first, and taking the one that covers the fewest markers, other labels and
space outside the axes. A label moved far from its point gets a thin leader line.

Every label has a halo (a stroke of the background's colour round the glyphs), so that it stays legible where it
crosses a path or a coloured map.
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.text import Annotation, Text

TEXT = 8.0  # points (core.MIN_POINTS at the page's width)
RADII = (2.0, 4.5, 7.5, 11.0, 15.0, 20.0, 26.0, 33.0)  # points from the point to the label's nearest corner
ANGLES = np.deg2rad([45, 135, 315, 225, 0, 180, 90, 270, 22.5, 157.5, 337.5, 202.5, 67.5, 112.5, 292.5, 247.5])
LEADER = 10.0  # points: a label placed at least this far away gets a leader line to its point


class _Placer(matplotlib.artist.Artist):
    """Drawn first among its axes' children (lowest zorder): places the axes' labels, then draws nothing."""

    def __init__(self, ax: Axes):
        super().__init__()
        self.ax, self.labels = ax, []
        self.set_zorder(-1e9)
        self.set_in_layout(False)

    def draw(self, renderer) -> None:
        place(self.ax, self.labels, renderer)

    def get_window_extent(self, renderer=None):
        return matplotlib.transforms.Bbox.null()


def _placer(ax: Axes) -> _Placer:
    placer = next((a for a in ax.artists if isinstance(a, _Placer)), None)
    if placer is None:
        placer = _Placer(ax)
        ax.add_artist(placer)
    return placer


def label(
    ax: Axes,
    text: str,
    xy,
    *,
    colour: str = "black",
    halo: str | None = "white",
    fontsize: float = TEXT,
    box: dict | None = None,
    anchors=(),
    **kwargs,
) -> Annotation:
    """Name the point `xy` (data coordinates) of `ax` with `text`; its place is chosen when the figure is drawn, near
    `xy` or near one of `anchors` (other points it may name instead, such as the other end of a path)."""
    if halo == "white" and box is None:
        colour = ink(colour)
    annotation = ax.annotate(
        text,
        xy,
        xytext=(3, 3),
        textcoords="offset points",
        fontsize=fontsize,
        color=colour,
        bbox=box,
        arrowprops=dict(
            arrowstyle="-", color="0.25" if box else colour, linewidth=0.6, alpha=0.8, shrinkA=0, shrinkB=2
        ),
        annotation_clip=False,
        **kwargs,
    )
    if halo is not None and box is None:
        annotation.set_path_effects([patheffects.withStroke(linewidth=2.2, foreground=halo)])
    annotation.set_in_layout(False)
    annotation.arrow_patch.set_visible(False)
    annotation.glassbox_anchors = [tuple(xy)] + [tuple(a) for a in anchors]
    _placer(ax).labels.append(annotation)
    return annotation


def _luminance(rgb) -> float:
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def ink(colour: str, contrast: float = 4.5) -> str:
    """`colour`, darkened (mixed with black) until text in it has `contrast` against white: the same hue, legible
    (orange and sky blue on white are not, at 8 pt)."""
    rgb = np.array(matplotlib.colors.to_rgb(colour))
    factor = 1.0
    while 1.05 / (_luminance(rgb * factor) + 0.05) < contrast and factor > 0:
        factor -= 0.02
    return matplotlib.colors.to_hex(rgb * max(factor, 0.0))


def _boxes_of_markers(ax: Axes, labels: list[Annotation], renderer) -> np.ndarray:
    """What a label should not cover, as display boxes [n, 4] (x0, y0, x1, y1): every marker of a scatter or line,
    and every other text of the axes."""
    px = renderer.points_to_pixels(1.0)
    boxes = []
    for coll in ax.collections:
        if not (isinstance(coll, PathCollection) and coll.get_visible()) or not len(coll.get_offsets()):
            continue
        centres = coll.get_offset_transform().transform(np.asarray(coll.get_offsets(), dtype=float))
        sizes = np.broadcast_to(np.asarray(coll.get_sizes(), dtype=float), (len(centres),))
        radius = np.sqrt(sizes) / 2 * px + 0.5 * px
        boxes.append(np.column_stack([centres - radius[:, None], centres + radius[:, None]]))
    for line in ax.lines:
        if line.get_visible() and line.get_marker() not in (None, "None", "", " "):
            centres = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
            radius = line.get_markersize() / 2 * px + 0.5 * px
            boxes.append(np.column_stack([centres - radius, centres + radius]))
    for text in ax.texts:
        arrow = getattr(text, "arrow_patch", None)
        if text.get_visible() and text not in labels and arrow is not None and arrow.get_visible():
            ends = ax.transData.transform(np.array([text.xy, text.xyann], dtype=float))  # an arrow drawn alone
            if not text.get_text().strip() and text.anncoords == "data" and np.isfinite(ends).all():
                along = ends[0] + np.linspace(0, 1, 16)[:, None] * (ends[1] - ends[0])
                boxes.append(np.column_stack([along - 2 * px, along + 2 * px]))
        if text.get_visible() and text not in labels and text.get_text().strip():
            extent = text.get_window_extent(renderer)
            boxes.append(np.array([[extent.x0, extent.y0, extent.x1, extent.y1]]))
    legend = ax.get_legend()
    if legend is not None and legend.get_visible():
        extent = legend.get_window_extent(renderer)
        boxes.append(np.array([[extent.x0, extent.y0, extent.x1, extent.y1]]))
    boxes = np.concatenate(boxes) if boxes else np.zeros((0, 4))
    return boxes[np.isfinite(boxes).all(1)]


def _overlap(candidates: np.ndarray, boxes: np.ndarray, each: float = 0.0) -> np.ndarray:
    """The area each candidate box [c, 4] shares with all of `boxes` [n, 4] together (summed), plus `each` for every
    box it touches at all (a corner over a marker is as bad as a name over it): [c]."""
    if not len(boxes):
        return np.zeros(len(candidates))
    w = np.minimum(candidates[:, None, 2], boxes[None, :, 2]) - np.maximum(candidates[:, None, 0], boxes[None, :, 0])
    h = np.minimum(candidates[:, None, 3], boxes[None, :, 3]) - np.maximum(candidates[:, None, 1], boxes[None, :, 1])
    area = np.clip(w, 0, None) * np.clip(h, 0, None)
    return area.sum(1) + each * (area > 0).sum(1)


def _distance(boxes: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The distance from each box [b, 4] to each point [n, 2] (0 inside): [b, n]."""
    dx = np.maximum(0, np.maximum(boxes[:, None, 0] - points[None, :, 0], points[None, :, 0] - boxes[:, None, 2]))
    dy = np.maximum(0, np.maximum(boxes[:, None, 1] - points[None, :, 1], points[None, :, 1] - boxes[:, None, 3]))
    return np.hypot(dx, dy)


def place(ax: Axes, labels: list[Annotation], renderer) -> None:
    """Put each of `labels` (in order) where it covers the least: markers, labels placed before it, other text, and
    space outside the axes, preferring places near its point."""
    px = renderer.points_to_pixels(1.0)
    obstacles = _boxes_of_markers(ax, labels, renderer)
    small = (obstacles[:, 2] - obstacles[:, 0]) < 20 * px  # markers (not texts or the legend): whose label is it?
    centres = (obstacles[small, :2] + obstacles[small, 2:]) / 2
    frame = ax.bbox
    placed = np.zeros((0, 4))
    directions = np.column_stack([np.cos(ANGLES), np.sin(ANGLES)])
    offsets = np.concatenate([r * directions for r in RADII])  # points, nearest first
    radii = np.repeat(RADII, len(ANGLES))
    for annotation in labels:
        if not annotation.get_visible():
            continue
        extent = Text.get_window_extent(annotation, renderer)  # the text alone (an annotation's adds its arrow)
        pad = 1.5 * px + (0.25 * annotation.get_fontsize() * px if annotation.get_bbox_patch() else 0.0)
        w, h = extent.width + 2 * pad, extent.height + 2 * pad
        ha = np.where(offsets[:, 0] > 1e-6, 0.0, np.where(offsets[:, 0] < -1e-6, 1.0, 0.5))
        va = np.where(offsets[:, 1] > 1e-6, 0.0, np.where(offsets[:, 1] < -1e-6, 1.0, 0.5))
        options = []  # (cost, anchor, candidate index, box) for every anchor
        for point in getattr(annotation, "glassbox_anchors", [annotation.xy]):
            anchor = ax.transData.transform(np.asarray(point, dtype=float))
            if not np.isfinite(anchor).all():
                continue
            x0 = anchor[0] + offsets[:, 0] * px - ha * w
            y0 = anchor[1] + offsets[:, 1] * px - va * h
            candidates = np.column_stack([x0, y0, x0 + w, y0 + h])
            inside_w = np.clip(np.minimum(candidates[:, 2], frame.x1) - np.maximum(candidates[:, 0], frame.x0), 0, None)
            inside_h = np.clip(np.minimum(candidates[:, 3], frame.y1) - np.maximum(candidates[:, 1], frame.y0), 0, None)
            outside = w * h - inside_w * inside_h
            apart = 3 * px  # labels side by side must not read as one ("2" "0" as "20")
            near_labels = _overlap(candidates, placed + np.array([-apart, -apart, apart, apart]), each=4 * h * h)
            # a label nearer another marker than its own point reads as that marker's name
            own = _distance(candidates, anchor[None])[:, 0]
            others = _distance(candidates, centres[np.linalg.norm(centres - anchor, axis=1) > 2 * px])
            misread = (others.min(1) < own - 1.0 * px) if others.shape[1] else np.zeros(len(candidates), bool)
            cost = (
                _overlap(candidates, obstacles, each=4 * h * h)
                + 6 * near_labels
                + 8 * outside
                + 0.4 * radii * px * h
                + 0.6 * w * h * misread
            )
            k = int(np.argmin(cost))
            options.append((cost[k], point, k, candidates[k]))
        if not options:
            continue
        _, point, best, chosen = min(options, key=lambda option: option[0])
        annotation.xy = point
        annotation.xyann = tuple(offsets[best])
        annotation.set_horizontalalignment({0.0: "left", 1.0: "right", 0.5: "center"}[float(ha[best])])
        annotation.set_verticalalignment({0.0: "bottom", 1.0: "top", 0.5: "center"}[float(va[best])])
        annotation.arrow_patch.set_visible(radii[best] >= LEADER)
        placed = np.concatenate([placed, chosen[None]])
