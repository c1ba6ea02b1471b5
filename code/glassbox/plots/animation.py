"""Learning-dynamics animations (chapter 6): one frame per training checkpoint, written as a GIF small enough for a
web page. Each function takes a trained `Run` (`glassbox.rules`), draws the same panels at every checkpoint, with
axes fixed over the whole animation so that movement on screen is movement of the weights.

Every animation also writes itself as an MP4 video (`GIF.save_mp4`, for the command line) when the optional
`imageio-ffmpeg` is installed; the GIF container, the frame joiner and the shared palette are `glassbox.plots.gif`'s.

Longer than 300 lines: the five animations of chapter 6 (embeddings, Q/K/V, Q/K with one window's attention,
output landscapes, Q/K space), each a short function of its own, and the moving, labelled scatter they share.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib import patheffects
from matplotlib.axes import Axes

from glassbox.analysis.planar import head, output_probabilities, require_2d, to_numpy, token_positions, trace
from glassbox.model import Transformer
from glassbox.plots.core import figure
from glassbox.plots.gif import GIF, animate, frame_steps, palette_of
from glassbox.plots.planar import LANDSCAPE, token_colour
from glassbox.plots.planar.labels import ink

__all__ = [
    "GIF",
    "animate",
    "embeddings_over_training",
    "frame_steps",
    "output_landscapes_over_training",
    "palette_of",
    "qk_attention_over_training",
    "qk_space_over_training",
    "qkv_over_training",
]


def _limits(arrays: Sequence[np.ndarray], margin: float | int = 0.1) -> tuple[tuple[float, float], tuple[float, float]]:
    points = np.concatenate([a.reshape(-1, 2) for a in arrays])
    low, high = points.min(0), points.max(0)
    pad = (high - low) * margin + 1e-3
    return (low[0] - pad[0], high[0] + pad[0]), (low[1] - pad[1], high[1] + pad[1])


GIF_TEXT, GIF_TITLE = 9.0, 10.0  # points at 100 px per inch: frames are shown at their own size, not at 2x as PNGs


def _label_groups(
    final: np.ndarray, names: dict[int, str], colours: Sequence[str], near: float = 0.04
) -> list[tuple[str, list[int], str]]:
    """One label per group of named points that end (in the trained model, `final` [n, 2]) within `near` of the
    span of each other and share a colour: the odd numbers, which training bunches, get "1,3,5,7,9", not five names
    printed on one spot. Each label is (text, the indices it follows, colour)."""
    span = float(np.ptp(final, axis=0).max()) or 1.0
    groups: list[list[int]] = []
    for i in names:
        for group in groups:
            if colours[group[0]] == colours[i] and np.linalg.norm(final[group[0]] - final[i]) < near * span:
                group.append(i)
                break
        else:
            groups.append([i])
    return [(",".join(names[i] for i in group), group, colours[group[0]]) for group in groups]


class _Dots:
    """A scatter plot with optional labels whose points can be moved frame by frame; a label follows the mean of the
    points it names (an annotation whose target is moved with it)."""

    def __init__(
        self,
        ax: Axes,
        n: int,
        colours: Sequence[str],
        limits,
        title: str,
        labels: Sequence[tuple[str, list[int], str]] = (),
    ):
        self.ax = ax
        self.scatter = ax.scatter(np.zeros(n), np.zeros(n), c=list(colours), s=8)
        halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]  # legible over points of its own colour
        self.members = [members for _, members, _ in labels]
        self.labels = [
            ax.annotate(
                text,
                (0, 0),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize=GIF_TEXT,
                color=ink(colour),
                path_effects=halo,
                zorder=3,
                annotation_clip=False,
            )
            for text, _, colour in labels
        ]
        ax.set(xlim=limits[0], ylim=limits[1])
        ax.set_title(title, fontsize=GIF_TITLE)
        ax.tick_params(labelsize=GIF_TEXT)

    def move(self, points: np.ndarray) -> None:
        """Move the points, and each label to its points' mean, written on the side away from the middle of the
        cloud (where the other points are)."""
        self.scatter.set_offsets(points)
        centre = points.mean(0)
        spread = np.ptp(points, axis=0) + 1e-9
        for label, members in zip(self.labels, self.members, strict=True):
            at = points[members].mean(0)
            away = (at - centre) / spread
            away = away / (np.linalg.norm(away) + 1e-9)
            # keep it inside the axes: a label that would run past an edge is written towards the inside
            x, y = self.ax.transData.transform(at)
            width = 0.6 * GIF_TEXT * len(label.get_text()) * self.ax.figure.dpi / 72 + 8
            box = self.ax.bbox
            if (away[0] > 0.3 and x + width > box.x1) or (away[0] < -0.3 and x - width < box.x0):
                away[0] = -away[0]
            if (away[1] > 0.3 and y + 20 > box.y1) or (away[1] < -0.3 and y - 20 < box.y0):
                away[1] = -away[1]
            label.xy = tuple(at)
            label.xyann = tuple(6 * away)
            label.set_horizontalalignment("left" if away[0] > 0.3 else "right" if away[0] < -0.3 else "center")
            label.set_verticalalignment("bottom" if away[1] > 0.3 else "top" if away[1] < -0.3 else "center")


def _checkpoints(run, n_frames: int) -> list[tuple[int, Transformer]]:
    return [(step, run.at_step(step)) for step in frame_steps(list(run.history.checkpoints), n_frames)]


def embeddings_over_training(run, n_frames: int = 40) -> GIF:
    """Token embeddings, position embeddings and every token+position (coloured by token), at each checkpoint."""
    require_2d(run.model)
    rule, models = run.rule, _checkpoints(run, n_frames)
    V, T = rule.d_vocab, run.model.cfg.n_ctx
    token_colours = [token_colour(rule, t) for t in range(V)]
    lims = [
        _limits([to_numpy(m.W_E) for _, m in models]),
        _limits([to_numpy(m.W_pos) for _, m in models]),
        _limits([to_numpy(token_positions(m)) for _, m in models]),
    ]

    trained = models[-1][1]
    token_labels = _label_groups(to_numpy(trained.W_E), dict(enumerate(rule.vocab)), token_colours)
    # the first and the last position named: the path between them is the order (eight names would pile up)
    position_labels = [("p0", [0], "#56B4E9"), (f"p{T - 1}", [T - 1], "#56B4E9")]

    def draw():
        fig, axes = figure(3, 1, width=7.0 / 3, height=2.6)
        dots = [
            _Dots(axes[0], V, token_colours, lims[0], "tokens", token_labels),
            _Dots(axes[1], T, ["#56B4E9"] * T, lims[1], "positions", position_labels),
            _Dots(axes[2], V * T, [c for c in token_colours for _ in range(T)], lims[2], "token + position"),
        ]

        def update(model: Transformer, step: int) -> None:
            for d, points in zip(dots, (model.W_E, model.W_pos, token_positions(model)), strict=True):
                d.move(to_numpy(points).reshape(-1, 2))
            fig.suptitle(f"step {step}", fontsize=GIF_TITLE)

        return fig, update

    return animate(
        draw,
        models,
        "Animation: the token, position and token-plus-position embeddings moving from "
        "random points into their trained arrangement over training.",
    )


def qkv_over_training(run, n_frames: int = 40) -> GIF:
    """Every token+position input and its query, key and value (coloured by token kind), at each checkpoint."""
    require_2d(run.model)
    rule, models = run.rule, _checkpoints(run, n_frames)
    spaces = {
        "inputs": lambda m, x: x,
        "queries": lambda m, x: head(m, x, "q"),
        "keys": lambda m, x: head(m, x, "k"),
        "values": lambda m, x: head(m, x, "v"),
    }
    lims = {name: _limits([to_numpy(f(m, token_positions(m))) for _, m in models]) for name, f in spaces.items()}
    n_ctx = run.model.cfg.n_ctx
    colours = [token_colour(rule, t) for t in range(rule.d_vocab) for _ in range(n_ctx)]
    # each token named once, at its last position (96 names would cover the points); bunched tokens share a name
    last = {t * n_ctx + n_ctx - 1: rule.vocab[t] for t in range(rule.d_vocab)}
    trained = run.model
    labels = {
        name: _label_groups(to_numpy(f(trained, token_positions(trained))).reshape(-1, 2), last, colours)
        for name, f in spaces.items()
    }

    def draw():
        fig, axes = figure(2, 2, width=3.5, height=3.0)
        dots = {
            name: _Dots(ax, len(colours), colours, lims[name], name, labels[name])
            for ax, name in zip(axes, spaces, strict=True)
        }

        def update(model: Transformer, step: int) -> None:
            x = token_positions(model)
            for name, f in spaces.items():
                dots[name].move(to_numpy(f(model, x)).reshape(-1, 2))
            fig.suptitle(f"step {step}", fontsize=GIF_TITLE)

        return fig, update

    return animate(
        draw,
        models,
        "Animation: inputs, queries, keys and values of every token at every position (blue "
        "even, orange odd, purple plus; each token named at its last position), spreading from overlapping random "
        "clouds into distinct shapes.",
    )


def qk_attention_over_training(run, window: Sequence[int], n_frames: int = 40) -> GIF:
    """Queries and keys of every token+position (left) and the attention pattern of one window (right)."""
    require_2d(run.model)
    rule, models = run.rule, _checkpoints(run, n_frames)
    lims = _limits([np.concatenate([to_numpy(head(m, token_positions(m), w)) for w in "qk"]) for _, m in models])
    labels = [f"{rule.vocab[t]}_{p}" for p, t in enumerate(window)]
    n = rule.d_vocab * run.model.cfg.n_ctx

    def draw():
        fig, axes = figure(2, 1, width=3.5, height=3.4)
        queries = _Dots(axes[0], n, ["#0072B2"] * n, lims, "queries (blue) and keys (vermilion)")
        keys = _Dots(axes[0], n, ["#D55E00"] * n, lims, "queries (blue) and keys (vermilion)")
        image = axes[1].imshow(np.zeros((len(window), len(window))), cmap="Greens", vmin=0.0, vmax=1.0)
        axes[1].set_xticks(range(len(window)), labels=labels, rotation=90, fontsize=GIF_TEXT)
        axes[1].set_yticks(range(len(window)), labels=labels, fontsize=GIF_TEXT)
        axes[1].set_title(f"attention of '{rule.decode(window)}'", fontsize=GIF_TITLE)

        def update(model: Transformer, step: int) -> None:
            x = token_positions(model).reshape(-1, 2)
            queries.move(to_numpy(head(model, x, "q")))
            keys.move(to_numpy(head(model, x, "k")))
            image.set_data(trace(model, window).pattern)
            fig.suptitle(f"step {step}", fontsize=GIF_TITLE)

        return fig, update

    return animate(
        draw,
        models,
        "Animation: queries and keys separating, while the attention pattern of one window "
        "goes from uniform rows to sharp ones in which each plus attends to the latest even number.",
    )


@torch.no_grad()
def output_landscapes_over_training(
    run, tokens: Sequence[int] | None = None, n_frames: int = 30, resolution: int = 30
) -> GIF:
    """The probability landscapes of the output tokens (all of them unless `tokens` picks some) with every
    token+position on them, at each checkpoint."""
    require_2d(run.model)
    rule, models = run.rule, _checkpoints(run, n_frames)
    V, T = rule.d_vocab, run.model.cfg.n_ctx
    tokens = list(range(V)) if tokens is None else list(tokens)
    colours = [token_colour(rule, t) for t in range(V) for _ in range(T)]
    lims = _limits([to_numpy(token_positions(m)) for _, m in models])
    xs, ys = np.linspace(*lims[0], resolution), np.linspace(*lims[1], resolution)
    grid = torch.tensor(np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2), dtype=torch.float32)

    def draw():
        ncols = min(4, len(tokens))
        nrows = -(-len(tokens) // ncols)
        fig, axes = figure(ncols, nrows, width=7.0 / ncols, height=1.85)
        for ax in axes[len(tokens) :]:
            ax.set_axis_off()
        panels = []
        for k, (ax, token) in enumerate(zip(axes, tokens, strict=False)):
            image = ax.imshow(
                np.zeros((resolution, resolution)),
                cmap=LANDSCAPE,
                vmin=0.0,
                vmax=1.0,
                origin="lower",
                extent=(*lims[0], *lims[1]),
                aspect="auto",
            )
            dots = _Dots(ax, V * T, colours, lims, f"P(next = {rule.vocab[token]})")
            ax.locator_params(nbins=3)  # the stream's two coordinates, on the outer panels only
            ax.tick_params(labelleft=k % ncols == 0, labelbottom=k + ncols >= len(tokens), length=2)
            panels.append((token, image, dots))
        bar = fig.colorbar(image, ax=list(axes), shrink=0.7)
        bar.set_label("probability", fontsize=GIF_TEXT)
        bar.ax.tick_params(labelsize=GIF_TEXT)
        fig.supxlabel("stream dimension 0 (after attention)", fontsize=GIF_TEXT)
        fig.supylabel("stream dimension 1", fontsize=GIF_TEXT)

        def update(model: Transformer, step: int) -> None:
            probs = to_numpy(output_probabilities(model, grid)).reshape(resolution, resolution, -1)
            points = to_numpy(token_positions(model)).reshape(-1, 2)
            for token, image, dots in panels:
                image.set_data(probs[..., token])
                dots.move(points)
            fig.suptitle(f"step {step}", fontsize=GIF_TITLE)

        return fig, update

    return animate(
        draw,
        models,
        "Animation: output-probability landscapes of every token sharpening from a uniform "
        "haze into bright regions while the token-plus-position points move into place.",
    )


def qk_space_over_training(run, n_frames: int = 40) -> GIF:
    """The fourth animation of the seed: queries (left) and keys (right) of every token+position on shared axes,
    labelled by token at their last position, at each checkpoint — the Q/K space taking shape."""
    require_2d(run.model)
    rule, models = run.rule, _checkpoints(run, n_frames)
    V, T = rule.d_vocab, run.model.cfg.n_ctx
    lims = _limits([np.concatenate([to_numpy(head(m, token_positions(m), w)) for w in "qk"]) for _, m in models])
    colours = [token_colour(rule, t) for t in range(V) for _ in range(T)]
    last = {t * T + T - 1: rule.vocab[t] for t in range(V)}
    x_trained = token_positions(run.model)
    labels = [_label_groups(to_numpy(head(run.model, x_trained, w)).reshape(-1, 2), last, colours) for w in "qk"]

    def draw():
        fig, axes = figure(2, 1, width=3.5, height=3.4)
        dots = [
            _Dots(ax, V * T, colours, lims, name, names)
            for ax, name, names in zip(axes, ("queries", "keys"), labels, strict=True)
        ]
        for ax in axes:
            ax.axhline(0, color="0.7", linewidth=0.6)
            ax.axvline(0, color="0.7", linewidth=0.6)

        def update(model: Transformer, step: int) -> None:
            x = token_positions(model).reshape(-1, 2)
            for d, which in zip(dots, "qk", strict=True):
                d.move(to_numpy(head(model, x, which)))
            fig.suptitle(f"step {step}", fontsize=GIF_TITLE)

        return fig, update

    return animate(
        draw,
        models,
        "Animation: queries and keys of every token at every position, coloured by kind and named by token, moving "
        "from one random cloud into the trained arrangement in which plus queries point towards the even keys.",
    )
