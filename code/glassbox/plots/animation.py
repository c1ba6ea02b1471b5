"""Learning-dynamics animations (chapter 6): one frame per training checkpoint, written as a GIF small enough for a
web page. Each function takes a trained `Run` (`glassbox.rules`), draws the same panels at every checkpoint, with
axes fixed over the whole animation so that movement on screen is movement of the weights.

Every animation also writes itself as an MP4 video (`GIF.save_mp4`, for the command line) when the optional
`imageio-ffmpeg` is installed.

Longer than 300 lines: the GIF container (and its MP4 writer) and frame joiner shared by the five animations of
chapter 6 (embeddings, Q/K/V, Q/K with one window's attention, output landscapes, Q/K space), each a short function
of its own.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.transforms import offset_copy
from PIL import Image

from glassbox.analysis.planar import head, output_probabilities, require_2d, to_numpy, token_positions, trace
from glassbox.model import Transformer
from glassbox.plots.core import figure
from glassbox.plots.planar import LANDSCAPE, token_colour


class GIF:
    """An animated GIF that shows itself in a notebook as an <img> with alt text, and on a built page as a file.

    Its display data offers both `image/gif` and `text/html`: Jupyter and Colab show the HTML (which carries the
    alt text); the book's build prefers `image/gif` (`nb_mime_priority_overrides` in _config.yml), so MyST-NB writes
    the GIF beside the page instead of inlining it, and the book's Sphinx extension adds a still of the last frame
    and a pause button (book/_ext/glassbox_site.py).
    """

    def __init__(self, data: bytes, alt: str, n_frames: int):
        self.data, self.alt, self.n_frames = data, alt, n_frames

    def _repr_html_(self) -> str:
        encoded = base64.b64encode(self.data).decode("ascii")
        return f'<img src="data:image/gif;base64,{encoded}" alt="{html.escape(self.alt)}" style="max-width:100%">'

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {
            "image/gif": base64.b64encode(self.data).decode("ascii"),
            "text/html": self._repr_html_(),
            "text/plain": f"<GIF: {self.n_frames} frames, {self.kilobytes:.0f} KB>",
        }

    def save(self, path: str | Path) -> Path:
        Path(path).write_bytes(self.data)
        return Path(path)

    def frames(self) -> tuple[list[np.ndarray], list[int]]:
        """The frames as RGB arrays [height, width, 3] and each one's duration in milliseconds."""
        image = Image.open(io.BytesIO(self.data))
        frames, durations = [], []
        for k in range(image.n_frames):
            image.seek(k)
            frames.append(np.asarray(image.convert("RGB")))
            durations.append(int(image.info.get("duration", 100)))
        return frames, durations

    def save_mp4(self, path: str | Path) -> Path:
        """The same animation as an H.264 MP4 video (as the seed project's command line wrote them), with ffmpeg
        from the `imageio-ffmpeg` wheel (the optional `video` extra: `pip install imageio-ffmpeg`). The frame rate
        is the first frame's; a frame shown longer (the last, held) is repeated."""
        try:
            import imageio_ffmpeg
        except ImportError:
            raise ImportError("writing MP4 needs imageio-ffmpeg: pip install imageio-ffmpeg") from None
        frames, durations = self.frames()
        height, width = frames[0].shape[:2]
        even = (height + height % 2, width + width % 2)  # H.264 in yuv420p needs even sides: pad with white
        step = durations[0]
        writer = imageio_ffmpeg.write_frames(
            str(path),
            (even[1], even[0]),
            fps=1000 / step,
            codec="libx264",
            pix_fmt_out="yuv420p",
            macro_block_size=1,
            output_params=["-movflags", "+faststart"],
            ffmpeg_log_level="error",
        )
        writer.send(None)  # start ffmpeg
        for frame, duration in zip(frames, durations, strict=True):
            padded = np.full((*even, 3), 255, dtype=np.uint8)
            padded[:height, :width] = frame
            for _ in range(max(1, round(duration / step))):
                writer.send(np.ascontiguousarray(padded))
        writer.close()
        return Path(path)

    @property
    def kilobytes(self) -> float:
        return len(self.data) / 1024


def frame_steps(steps: Sequence[int], n_frames: int) -> list[int]:
    """At most `n_frames` checkpoint steps, spread evenly over `steps` (first and last included)."""
    steps = sorted(steps)
    if n_frames < 2:
        raise ValueError(f"an animation needs at least 2 frames, got {n_frames}")
    picks = np.unique(np.linspace(0, len(steps) - 1, min(n_frames, len(steps))).round().astype(int))
    return [steps[i] for i in picks]


def animate(
    draw: Callable[[], tuple[object, Callable[[Transformer, int], None]]],
    models: Sequence[tuple[int, Transformer]],
    alt: str,
    *,
    seconds_per_frame: float = 0.15,
    hold_last: int = 8,
) -> GIF:
    """Join one frame per (step, model) into a GIF.

    `draw()` builds the figure once and returns it with an `update(model, step)` that moves its artists to a
    checkpoint's values: redrawing only the data (and freezing the layout after the first frame) is many times
    faster than drawing a new figure per frame. One palette shared by every frame, made from all of them (a palette
    of the last frame alone has no colours for the early ones, which then render grey), keeps the GIF small. Frames
    are drawn at 100 px per inch, so a figure at most the column wide shows at its own size, text ≥ 8 pt.
    """
    fig, update = draw()
    fig.dpi = 100
    canvas = FigureCanvasAgg(fig)
    frames = []
    for k, (step, model) in enumerate(models):
        update(model, step)
        canvas.draw()
        if k == 0:
            fig.set_layout_engine("none")  # keep the first frame's layout: later frames only move data
        frames.append(Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]))
    palette = palette_of(frames)
    frames = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    durations = [int(seconds_per_frame * 1000)] * len(frames)
    durations[-1] *= hold_last  # pause on the trained model before looping
    buffer = io.BytesIO()
    frames[0].save(
        buffer, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0, optimize=True
    )
    return GIF(buffer.getvalue(), alt, len(frames))


def palette_of(frames: Sequence[Image.Image], colours: int = 128, samples: int = 12) -> Image.Image:
    """One palette for all `frames`, from up to `samples` of them spread over the animation, stacked."""
    picks = [frames[i] for i in np.unique(np.linspace(0, len(frames) - 1, min(samples, len(frames))).astype(int))]
    width, height = picks[0].size
    sheet = Image.new("RGB", (width, height * len(picks)))
    for k, frame in enumerate(picks):
        sheet.paste(frame, (0, k * height))
    return sheet.quantize(colours, method=Image.Quantize.MEDIANCUT)


def _limits(arrays: Sequence[np.ndarray], margin: float | int = 0.1) -> tuple[tuple[float, float], tuple[float, float]]:
    points = np.concatenate([a.reshape(-1, 2) for a in arrays])
    low, high = points.min(0), points.max(0)
    pad = (high - low) * margin + 1e-3
    return (low[0] - pad[0], high[0] + pad[0]), (low[1] - pad[1], high[1] + pad[1])


class _Dots:
    """A scatter plot with optional labels whose points can be moved frame by frame."""

    def __init__(
        self, ax: Axes, n: int, colours: Sequence[str], limits, title: str, labels: Sequence[str] | None = None
    ):
        self.scatter = ax.scatter(np.zeros(n), np.zeros(n), c=list(colours), s=8)
        # no labels: no annotations (zip stops at the shorter, on purpose)
        pairs = zip(labels or [], colours, strict=False)
        beside = offset_copy(ax.transData, fig=ax.figure, x=3, y=3, units="points")  # beside its point, not on it
        halo = [patheffects.withStroke(linewidth=2, foreground="white")]  # legible over points of its own colour
        self.labels = [
            ax.text(0, 0, label, fontsize=8, color=colour, transform=beside, path_effects=halo, zorder=3)
            for label, colour in pairs
        ]
        ax.set(xlim=limits[0], ylim=limits[1], title=title)
        ax.tick_params(labelsize=8)
        ax.title.set_fontsize(9)

    def move(self, points: np.ndarray) -> None:
        """Move the points and their labels (the text itself: moving an annotation's target left it behind)."""
        self.scatter.set_offsets(points)
        for label, point in zip(self.labels, points, strict=False):  # no labels: nothing to move
            label.set_position(tuple(point))


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

    def draw():
        fig, axes = figure(3, 1, width=7.0 / 3, height=2.5)
        dots = [
            _Dots(axes[0], V, token_colours, lims[0], "tokens", rule.vocab),
            _Dots(axes[1], T, ["#56B4E9"] * T, lims[1], "positions", [f"p{p}" for p in range(T)]),
            _Dots(axes[2], V * T, [c for c in token_colours for _ in range(T)], lims[2], "token + position"),
        ]

        def update(model: Transformer, step: int) -> None:
            for d, points in zip(dots, (model.W_E, model.W_pos, token_positions(model)), strict=True):
                d.move(to_numpy(points).reshape(-1, 2))
            fig.suptitle(f"step {step}", fontsize=9)

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
    # each token named once, at its last position (96 names would cover the points)
    labels = [rule.vocab[t] if p == n_ctx - 1 else "" for t in range(rule.d_vocab) for p in range(n_ctx)]

    def draw():
        fig, axes = figure(2, 2, width=3.5, height=3.0)
        dots = {
            name: _Dots(ax, len(colours), colours, lims[name], name, labels)
            for ax, name in zip(axes, spaces, strict=True)
        }

        def update(model: Transformer, step: int) -> None:
            x = token_positions(model)
            for name, f in spaces.items():
                dots[name].move(to_numpy(f(model, x)).reshape(-1, 2))
            fig.suptitle(f"step {step}", fontsize=9)

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
        axes[1].set_xticks(range(len(window)), labels=labels, rotation=90, fontsize=8)
        axes[1].set_yticks(range(len(window)), labels=labels, fontsize=8)
        axes[1].set_title(f"attention of '{rule.decode(window)}'", fontsize=9)

        def update(model: Transformer, step: int) -> None:
            x = token_positions(model).reshape(-1, 2)
            queries.move(to_numpy(head(model, x, "q")))
            keys.move(to_numpy(head(model, x, "k")))
            image.set_data(trace(model, window).pattern)
            fig.suptitle(f"step {step}", fontsize=9)

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
        fig, axes = figure(ncols, nrows, width=7.0 / ncols, height=1.7)
        for ax in axes[len(tokens) :]:
            ax.set_axis_off()
        panels = []
        for ax, token in zip(axes, tokens, strict=False):
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
            ax.set_xticks([])
            ax.set_yticks([])
            panels.append((token, image, dots))

        def update(model: Transformer, step: int) -> None:
            probs = to_numpy(output_probabilities(model, grid)).reshape(resolution, resolution, -1)
            points = to_numpy(token_positions(model)).reshape(-1, 2)
            for token, image, dots in panels:
                image.set_data(probs[..., token])
                dots.move(points)
            fig.suptitle(f"step {step}", fontsize=9)

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
    labels = [rule.vocab[t] if p == T - 1 else "" for t in range(V) for p in range(T)]

    def draw():
        fig, axes = figure(2, 1, width=3.5, height=3.4)
        dots = [
            _Dots(ax, V * T, colours, lims, name, labels) for ax, name in zip(axes, ("queries", "keys"), strict=True)
        ]
        for ax in axes:
            ax.axhline(0, color="0.7", linewidth=0.6)
            ax.axvline(0, color="0.7", linewidth=0.6)

        def update(model: Transformer, step: int) -> None:
            x = token_positions(model).reshape(-1, 2)
            for d, which in zip(dots, "qk", strict=True):
                d.move(to_numpy(head(model, x, which)))
            fig.suptitle(f"step {step}", fontsize=9)

        return fig, update

    return animate(
        draw,
        models,
        "Animation: queries and keys of every token at every position, coloured by kind and named by token, moving "
        "from one random cloud into the trained arrangement in which plus queries point towards the even keys.",
    )
