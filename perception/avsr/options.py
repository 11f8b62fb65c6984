"""The audio-visual recogniser's options (kept apart from the models so that the speech
options can hold them without loading torch modules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from perception.config import check

AvFusion = Literal["audio", "static", "av-uadf"]
FaceDetector = Literal["mtcnn", "drawn"]
FUSIONS: tuple[AvFusion, ...] = ("audio", "static", "av-uadf")


@dataclass(frozen=True)
class AvOptions:
    """The AV recogniser's settings; a None temperature or weight comes from the calibration
    file written by ``perception avsr-eval --save`` (1.0 / 0.5 without one)."""

    enabled: bool = False  # the speech pipeline also watches a camera (node: subscribes to image)
    weights: str = ""  # "" = the bundled avsr-visual checkpoint
    # mtcnn: real camera faces (MTCNN, active speaker by audio-visual synchrony; the lips do
    # not vote: the visual speech model knows only drawn mouths). drawn: the rendered faces of
    # perception.avsr.face (our landmark CNN, the visual model's activity and word posteriors)
    face_detector: FaceDetector = "mtcnn"
    fusion: AvFusion = "av-uadf"
    gate: Literal["audio", "on-camera"] = "audio"  # on-camera: drop speech the face did not say
    max_frame_gap_s: float = 0.2  # frames must cover the utterance to within this
    top_k: int = 10
    audio_temperature: float | None = None
    visual_temperature: float | None = None
    static_weight: float | None = None

    def __post_init__(self) -> None:
        check(self.fusion in FUSIONS, f"fusion must be one of {FUSIONS}, got {self.fusion!r}")
        check(
            self.gate in ("audio", "on-camera"),
            f"gate must be audio or on-camera, got {self.gate!r}",
        )
        check(
            self.face_detector in ("mtcnn", "drawn"),
            f"face_detector must be mtcnn (real cameras) or drawn (rendered faces), "
            f"got {self.face_detector!r}",
        )
        check(self.top_k >= 1, f"top_k must be >= 1, got {self.top_k}")
