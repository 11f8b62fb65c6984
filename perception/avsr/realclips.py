"""Real talking-face clips (video with its sound track and a word alignment), as in
``shared/data/av`` (GRID corpus: ``NAME.mpg`` + ``NAME.align``): frames, stamps, 16 kHz audio
and the spoken words with their times. Decoding is ffmpeg's; this module knows nothing of
faces or models."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from perception.audio import SAMPLE_RATE, load_audio

ALIGN_UNITS_PER_S = 25000.0  # GRID .align times: 1000 units = one 25 fps frame


@dataclass(frozen=True)
class RealClip:
    name: str
    frames: np.ndarray  # (N, H, W, 3) uint8 BGR
    stamps_s: np.ndarray  # (N,) frame times from the clip's start
    audio: np.ndarray  # (S,) float32, 16 kHz, starts at 0 s on the frames' clock
    words: tuple[tuple[float, float, str], ...]  # (start_s, end_s, word), silence left out

    @property
    def text(self) -> str:
        return " ".join(w for _, _, w in self.words)

    def speech_span_s(self) -> tuple[float, float]:
        return self.words[0][0], self.words[-1][1]


def _probe(path: Path) -> tuple[int, int, float]:
    out = subprocess.run(
        [
            "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
            "stream=width,height,avg_frame_rate", "-of", "json", str(path),
        ],
        capture_output=True, check=True, text=True,
    ).stdout  # fmt: skip
    s = json.loads(out)["streams"][0]
    num, den = (int(v) for v in s["avg_frame_rate"].split("/"))
    return int(s["width"]), int(s["height"]), num / den


def read_video(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(frames (N, H, W, 3) uint8 BGR, stamps (N,) seconds at the stream's frame rate)."""
    w, h, fps = _probe(path)
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    frames = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
    return frames, np.arange(len(frames)) / fps


def read_align(path: Path) -> tuple[tuple[float, float, str], ...]:
    """GRID word alignment: ``start end word`` per line (1/25000 s), ``sil`` dropped."""
    words = []
    for line in path.read_text().split("\n"):
        parts = line.split()
        if len(parts) == 3 and parts[2] != "sil":
            a, b = float(parts[0]) / ALIGN_UNITS_PER_S, float(parts[1]) / ALIGN_UNITS_PER_S
            words.append((a, b, parts[2]))
    return tuple(words)


def load_clip(video: Path) -> RealClip:
    if not video.is_file():
        raise FileNotFoundError(f"no clip at {video}; expected a video file with a .align beside")
    frames, stamps = read_video(video)
    audio = load_audio(video, SAMPLE_RATE)
    return RealClip(video.stem, frames, stamps, audio, read_align(video.with_suffix(".align")))


def load_folder(folder: Path) -> list[RealClip]:
    """Every ``*.mpg`` with an ``.align`` beside it, by name."""
    videos = sorted(p for p in folder.glob("*.mpg") if p.with_suffix(".align").is_file())
    if not videos:
        raise FileNotFoundError(f"no .mpg clips with .align files in {folder}")
    return [load_clip(v) for v in videos]
