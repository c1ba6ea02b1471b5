"""The command line writes every learning-dynamics animation as a GIF and as an MP4 video (as the seed project's
did): a real H.264 video whose frames are the GIF's, the held last frame repeated."""

import io
import sys

import imageio_ffmpeg
import numpy as np
import pytest
from glassbox import rules
from glassbox.plots import animation
from glassbox.rules import cli
from glassbox.train import TrainConfig
from PIL import Image

pytestmark = pytest.mark.slow  # trains a Part III model and writes animations


@pytest.fixture(scope="module")
def gif():
    recipe = rules.Recipe(16, TrainConfig(steps=4, eval_every=2, eval_batches=1, checkpoint_every=1, progress=False))
    return animation.embeddings_over_training(rules.train_rule("plus_last_even", recipe), n_frames=3)


def mp4_frames(path) -> tuple[dict, list[np.ndarray]]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return meta, [np.frombuffer(frame, np.uint8).reshape(height, width, 3) for frame in reader]


def test_an_animation_saves_as_an_mp4_video_of_its_frames(gif, tmp_path):
    path = gif.save_mp4(tmp_path / "a.mp4")
    assert path.read_bytes()[4:8] == b"ftyp", "an MP4 container starts with its ftyp box"
    meta, frames = mp4_frames(path)
    gif_frames, durations = gif.frames()
    assert meta["codec"] == "h264" and meta["fps"] == pytest.approx(1000 / durations[0], rel=0.01)
    assert len(frames) == sum(round(d / durations[0]) for d in durations)  # the last frame held 8 frames long
    assert all(side % 2 == 0 for side in meta["size"])
    height, width = gif_frames[0].shape[:2]
    for shown, frame in ((frames[0], gif_frames[0]), (frames[-1], gif_frames[-1])):  # lossy, but the same picture
        assert np.abs(shown[:height, :width].astype(int) - frame).mean() < 4


def test_without_imageio_ffmpeg_the_error_says_what_to_install(gif, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    with pytest.raises(ImportError, match="writing MP4 needs imageio-ffmpeg: pip install imageio-ffmpeg"):
        gif.save_mp4(tmp_path / "a.mp4")


def test_the_command_line_writes_each_animation_as_gif_and_mp4(tmp_path, capsys, monkeypatch):
    out, config = tmp_path / "run", tmp_path / "short.toml"
    config.write_text("steps = 4\neval_every = 2\ncheckpoint_every = 1\n")
    argv = ["plus_last_even", "--out", str(out), "--config", str(config), "--figure", "learning_embeddings"]
    assert cli.main(argv) == 0
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [
        "learning_embeddings.gif",
        "learning_embeddings.mp4",
        "run.pt",
    ]
    gif_frames = Image.open(io.BytesIO((out / "learning_embeddings.gif").read_bytes())).n_frames
    assert gif_frames >= 2 and len(mp4_frames(out / "learning_embeddings.mp4")[1]) > gif_frames
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # not installed: GIFs only, and it says so
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name: None)
    (out / "learning_embeddings.mp4").unlink()
    assert cli.main(["plus_last_even", "--out", str(out), "--figures-only", "--figure", "learning_embeddings"]) == 0
    assert "MP4 videos skipped: they need imageio-ffmpeg" in capsys.readouterr().out
    assert not (out / "learning_embeddings.mp4").exists()
