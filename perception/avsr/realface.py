"""The real-camera face front end: MTCNN finds every face in a frame (a box and five landmarks:
eyes, nose, mouth corners), detections are linked into tracks over frames, and each track gives
mouth crops in the same format as the drawn-face front end (:func:`~perception.avsr.frontend.
mouth_crop`: centred on the mouth, eyes level, scaled by the eyes-to-mouth distance).

MTCNN (Zhang et al., "Joint Face Detection and Alignment using Multitask Cascaded Convolutional
Networks", IEEE SPL 2016) comes from ``facenet-pytorch``, whose wheel holds the P/R/O-net weights;
it is imported only when a detector is built (install the ``avsr`` extra, see pyproject.toml).
This module does not know whether a face is speaking (:mod:`perception.avsr.synchrony`) nor
what it says (:mod:`perception.avsr.model`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception.avsr.frontend import MODEL_HZ, MouthTrack, mouth_crop

INSTALL_HINT = (
    "the real-face detector needs facenet-pytorch; install it with "
    "`.venv/bin/pip install --no-deps facenet-pytorch==2.6.0` (scripts/setup.sh does)"
)


@dataclass(frozen=True)
class FaceDetection:
    """One face in one frame, in pixels."""

    box_px: tuple[float, float, float, float]  # x0 y0 x1 y1
    landmarks_px: np.ndarray  # (5, 2): left eye, right eye, nose, left / right mouth corner
    score: float  # MTCNN's face probability

    def mouth_landmarks(self) -> np.ndarray:
        """(6,) left eye x y, right eye x y, mouth centre x y (the drawn front end's layout)."""
        lm = self.landmarks_px
        return np.concatenate([lm[0], lm[1], (lm[3] + lm[4]) / 2]).astype(np.float32)


class MtcnnDetector:
    """Faces of (N, H, W, 3) uint8 BGR frames, at most ``max_faces`` per frame."""

    def __init__(
        self, min_score: float = 0.9, min_face_px: int = 40, max_faces: int = 8, batch: int = 16
    ) -> None:
        try:
            # the package __init__ also imports its face-embedding model (needs requests); only
            # the detector is used
            from facenet_pytorch.models.mtcnn import MTCNN
        except ImportError as e:
            raise ImportError(INSTALL_HINT) from e
        self.net = MTCNN(keep_all=True, min_face_size=min_face_px, device="cpu")
        self.min_score, self.max_faces, self.batch = min_score, max_faces, batch

    def detect(self, frames: np.ndarray) -> list[list[FaceDetection]]:
        """Per frame, the faces found (best score first; an empty list where there is none)."""
        out: list[list[FaceDetection]] = []
        for i in range(0, len(frames), self.batch):
            rgb = [np.ascontiguousarray(f[..., ::-1]) for f in frames[i : i + self.batch]]
            boxes, probs, marks = self.net.detect(rgb, landmarks=True)
            for b, p, m in zip(boxes, probs, marks, strict=True):
                faces = (
                    []
                    if b is None
                    else [
                        FaceDetection(
                            tuple(float(v) for v in b[k]), m[k].astype(np.float32), float(p[k])
                        )
                        for k in np.argsort(-p)
                        if p[k] >= self.min_score
                    ]
                )
                out.append(faces[: self.max_faces])
        return out


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def link_tracks(
    detections: list[list[FaceDetection]], min_iou: float = 0.3, max_gap: int = 12
) -> list[list[FaceDetection | None]]:
    """Tracks over frames: each a per-frame list (None where the face was not found). A face
    joins the track whose last box overlaps it most (IoU ≥ ``min_iou``, greedy, best pairs
    first); a track not seen for more than ``max_gap`` frames ends."""
    tracks: list[list[FaceDetection | None]] = []
    last: list[tuple[int, FaceDetection]] = []  # per track: (frame seen, detection)
    for f, faces in enumerate(detections):
        pairs = sorted(
            (
                (_iou(last[t][1].box_px, d.box_px), t, k)
                for t in range(len(tracks))
                if f - last[t][0] <= max_gap
                for k, d in enumerate(faces)
            ),
            reverse=True,
        )
        used_t: set[int] = set()
        used_k: set[int] = set()
        for iou, t, k in pairs:
            if iou < min_iou or t in used_t or k in used_k:
                continue
            used_t.add(t)
            used_k.add(k)
            tracks[t].append(faces[k])
            last[t] = (f, faces[k])
        for t in range(len(tracks)):
            if t not in used_t:
                tracks[t].append(None)
        for k, d in enumerate(faces):
            if k not in used_k:
                tracks.append([None] * f + [d])
                last.append((f, d))
    return tracks


def mouth_track(
    frames: np.ndarray,
    stamps_s: np.ndarray,
    faces: list[FaceDetection | None],
    smooth: float = 0.5,
    start_s: float | None = None,
    end_s: float | None = None,
) -> MouthTrack:
    """One face track's mouth crops resampled to 25 Hz by nearest stamp over [start_s, end_s];
    landmarks smoothed over time (exponential, weight ``smooth`` on the past) and held where the
    face was not found (present 0 there). Frames before the face's first detection use that."""
    first = next(d for d in faces if d is not None)
    marks, box = first.mouth_landmarks(), first.box_px
    crops, boxes, present = [], [], []
    for frame, d in zip(frames, faces, strict=True):
        if d is not None:
            marks = smooth * marks + (1 - smooth) * d.mouth_landmarks()
            box = d.box_px
        crops.append(mouth_crop(frame, marks))
        boxes.append(box)
        present.append(0.0 if d is None else d.score)
    start = stamps_s[0] if start_s is None else start_s
    end = stamps_s[-1] if end_s is None else end_s
    steps = np.arange(start, end + 1e-9, 1 / MODEL_HZ)
    idx = np.abs(stamps_s[None, :] - steps[:, None]).argmin(1)
    return MouthTrack(
        np.stack(crops)[idx],
        steps,
        np.array(present, np.float32)[idx],
        np.array(boxes, np.float32)[idx],
    )
