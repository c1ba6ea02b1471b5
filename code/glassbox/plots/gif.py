"""The container every learning-dynamics animation of chapter 6 is written in (`glassbox.plots.animation`): `GIF`, an
animated GIF that shows itself in a notebook and on a built page (and writes itself as an MP4 video for the command
line, with the optional `imageio-ffmpeg`), `animate`, which joins one frame per checkpoint into one, and the frame
choice and shared palette that keep it small.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from glassbox.model import Transformer


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
