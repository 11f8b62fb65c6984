"""Options of the vision capability: the detector, runtime and thresholds, and the default
language set.

Shared by :mod:`perception.vision.api` (which picks the detector these options name) and the
detectors themselves; it knows no model and no backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from perception.config import check

# One language per script, and "zxx" (numbers and symbols, no language). The registry's Latin
# languages (de, fr, es) differ from English mostly in a few diacritics, which a glyph-shape
# model cannot be expected to tell apart; add them explicitly. The languages both bundled MENTOR
# models were meta-trained on (mentor-large also on 14 training-only scripts), and the two
# scripts held out of all training (added only through their printed templates).
SEEN_LANGUAGES = (
    "en",
    "ru",
    "el",
    "ar",
    "he",
    "hi",
    "bn",
    "ta",
    "ko",
    "ja",
    "zh",
    "hy",
    "ka",
    "am",
    "gu",
    "pa",
    "or",
    "kn",
    "te",
    "si",
    "km",
    "my",
    "dv",
    "chr",
    "zxx",
)
HELD_OUT_LANGUAGES = ("ml", "th")
DEFAULT_LANGUAGES = SEEN_LANGUAGES + HELD_OUT_LANGUAGES


@dataclass(frozen=True)
class VisionOptions:
    """Options of scene-text detection with per-region language.

    detector: "mentor" (regions + language per region), "ppocr" (PP-OCRv4 regions only, language
        "unknown"), "script-id" (PP-OCRv4 regions + a crop classifier over the seen languages).
    runtime: where the shared PP-OCRv4 features run ("onnxruntime" is about 3x faster on CPU;
        with a CUDA ``device`` it takes onnxruntime's TensorRT / CUDA providers when installed;
        "tensorrt" stops with the reason: engines are not wired into the detectors yet).
    device: torch device for MENTOR's modules and the torch runtime.
    min_side_px: images are enlarged so the shortest side reaches this (0 = never), as
        rapidocr's PP-OCRv4 pipeline does (736); sides are then rounded to multiples of 32.
    max_side_px: after that, the longest side is cut to at most this (0 = no limit; 2000 is
        rapidocr's cap for whole-pipeline inputs).
    bin_threshold / box_threshold: DB pixel and region score thresholds, probabilities in [0, 1].
    unclip_ratio: DB polygon growth, D = area * ratio / perimeter.
    language_threshold: probability of a region's best language below which it is "unknown".
    languages: registry codes MENTOR looks for; empty = DEFAULT_LANGUAGES plus user-added ones.
    weights: MENTOR / script-id checkpoint: a path, or a bundled name ("mentor-large",
        "mentor-small"); empty = the default bundled model, mentor-large.
    threads: CPU threads for onnxruntime and torch (0 = library default).
    read_text: read each region with the PP-OCRv4 recogniser (Chinese, Latin letters, digits);
        regions of other scripts get a note that no reader is installed.
    reading_evidence: with ``read_text``, a confident reading's scripts weigh in on the
        language (:mod:`perception.vision.reading_evidence`, calibrated weights); off = the
        language heads alone.
    whole_image: "auto" reads and names the whole image as one region when it is itself a word
        or a text line (:mod:`perception.vision.whole_image`), "never" only detected boxes,
        "always" the whole image (a crop you already cut).
    """

    detector: Literal["mentor", "ppocr", "script-id"] = "mentor"
    runtime: Literal["onnxruntime", "torch", "tensorrt"] = "onnxruntime"
    device: str = "cpu"
    min_side_px: int = 736
    max_side_px: int = 2000
    bin_threshold: float = 0.3
    box_threshold: float = 0.5
    unclip_ratio: float = 1.6
    language_threshold: float = 0.3
    languages: tuple[str, ...] = ()
    weights: str = ""
    threads: int = 0
    read_text: bool = True
    reading_evidence: bool = True
    whole_image: Literal["auto", "never", "always"] = "auto"

    def __post_init__(self) -> None:
        check(
            self.max_side_px == 0 or 32 <= self.max_side_px <= 8192,
            f"max_side_px must be 0 (no limit) or in [32, 8192], got {self.max_side_px}",
        )
        for name in ("bin_threshold", "box_threshold", "language_threshold"):
            value = getattr(self, name)
            check(0.0 <= value <= 1.0, f"{name} must be a probability in [0, 1], got {value}")
        check(self.unclip_ratio > 0, f"unclip_ratio must be > 0, got {self.unclip_ratio}")
        check(self.min_side_px >= 0, f"min_side_px must be >= 0, got {self.min_side_px}")
        check(self.threads >= 0, f"threads must be >= 0, got {self.threads}")
        check(
            self.device == "cpu" or self.device.startswith("cuda"),
            f"device must be 'cpu' or 'cuda[:N]', got {self.device!r}",
        )
