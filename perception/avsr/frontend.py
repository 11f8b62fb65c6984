"""The visual front end: find the face and its mouth in a camera frame, cut a mouth crop
normalised in size and roll, track it over time, and resample the track to the model's rate.

The landmark model is ours: a small CNN trained on rendered faces (:mod:`perception.avsr.face`)
to regress the two eyes and the mouth centre and to say whether a face is there. Packaged face
detectors (OpenCV's Haar cascades, MediaPipe) are trained on photographs of people and are not
meant for the cartoon faces our synthetic data has; a landmark model trained on the same renderer
is the honest choice here and would be swapped for a packaged detector on real camera frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn

from perception.avsr.face import draw_style, render_frame

INPUT = 64  # the landmark model sees (64, 64) grey frames
CROP = 32  # mouth crops are (32, 32) grey
MODEL_HZ = 25.0  # the visual speech model's frame rate


class LandmarkNet(nn.Module):
    """(B, 1, 64, 64) grey in [0, 1] → (B, 7): eyes and mouth as fractions of the frame's
    width and height (6), and a face-present logit."""

    def __init__(self) -> None:
        super().__init__()

        def block(i: int, o: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)
            )

        self.features = nn.Sequential(block(1, 16), block(16, 32), block(32, 48), block(48, 64))
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, 7)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def to_input(frames: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 BGR → (N, 1, 64, 64) float grey."""
    grey = [
        cv2.resize(
            cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), (INPUT, INPUT), interpolation=cv2.INTER_AREA
        )
        for f in frames
    ]
    return torch.from_numpy(np.stack(grey)[:, None].astype(np.float32) / 255.0)


@dataclass(frozen=True)
class FaceFix:
    """The landmark model's answer for one frame, in pixels."""

    present: float  # probability that a face is there
    landmarks: np.ndarray  # (6,) left eye x y, right eye x y, mouth x y

    def box(self) -> tuple[float, float, float, float]:
        """A face box from the landmarks (eyes to mouth distance sets the size)."""
        le, re, m = self.landmarks[:2], self.landmarks[2:4], self.landmarks[4:]
        mid = (le + re) / 2
        d = float(np.linalg.norm(m - mid)) or 1.0
        c = mid + (m - mid) * 0.35
        return (
            float(c[0] - 1.3 * d),
            float(c[1] - 1.6 * d),
            float(c[0] + 1.3 * d),
            float(c[1] + 1.6 * d),
        )


@torch.no_grad()
def locate(net: LandmarkNet, frames: np.ndarray) -> list[FaceFix]:
    """Landmarks of every (H, W, 3) frame."""
    if len(frames) == 0:
        return []
    h, w = frames.shape[1:3]
    out = net.eval()(to_input(frames)).numpy()
    scale = np.array([w, h] * 3, np.float32)
    return [FaceFix(float(1 / (1 + math.exp(-row[6]))), row[:6] * scale) for row in out]


def mouth_crop(frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(32, 32) uint8 grey mouth crop: centred on the mouth, rotated so the eyes are level, its
    side 1.5× the eyes-to-mouth distance (so the same mouth fills the crop at any face size)."""
    le, re, m = landmarks[:2], landmarks[2:4], landmarks[4:]
    angle = math.degrees(math.atan2(re[1] - le[1], re[0] - le[0]))
    d = max(float(np.linalg.norm(m - (le + re) / 2)), 2.0)
    scale = CROP / (1.5 * d)
    a = cv2.getRotationMatrix2D((float(m[0]), float(m[1])), angle, scale)
    a[:, 2] += np.array([CROP / 2 - m[0], CROP / 2 - m[1]])
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return cv2.warpAffine(
        grey, a, (CROP, CROP), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


@dataclass(frozen=True)
class MouthTrack:
    """Mouth crops of one face over time, resampled to :data:`MODEL_HZ`."""

    crops: np.ndarray  # (T, 32, 32) uint8
    times_s: np.ndarray  # (T,) stamps of the resampled steps
    present: np.ndarray  # (T,) face-present probability
    boxes: np.ndarray  # (T, 4) face boxes in pixels


def track(
    net: LandmarkNet,
    frames: np.ndarray,
    stamps_s: np.ndarray,
    smooth: float = 0.5,
    start_s: float | None = None,
    end_s: float | None = None,
) -> MouthTrack:
    """Locate the face in every frame, smooth its landmarks over time (exponential, weight
    ``smooth`` on the past; a frame where no face is found keeps the last landmarks), cut the
    crops, and resample them to 25 Hz by nearest stamp over [start_s, end_s]."""
    if len(frames) == 0:
        raise ValueError("no camera frames to track a face in; expected (N, H, W, 3) uint8")
    fixes = locate(net, frames)
    marks, crops, boxes = None, [], []
    for frame, fix in zip(frames, fixes, strict=True):
        if fix.present >= 0.5:
            marks = (
                fix.landmarks if marks is None else smooth * marks + (1 - smooth) * fix.landmarks
            )
        use = marks if marks is not None else fix.landmarks
        crops.append(mouth_crop(frame, use))
        boxes.append(FaceFix(fix.present, use).box())
    start = stamps_s[0] if start_s is None else start_s
    end = stamps_s[-1] if end_s is None else end_s
    steps = np.arange(start, end + 1e-9, 1 / MODEL_HZ)
    idx = np.abs(stamps_s[None, :] - steps[:, None]).argmin(1)
    present = np.array([f.present for f in fixes], np.float32)
    return MouthTrack(np.stack(crops)[idx], steps, present[idx], np.array(boxes, np.float32)[idx])


def landmark_training_set(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` rendered frames (random faces, poses and mouth shapes; one in eight with no face)
    and their targets (6 landmark fractions, presence)."""
    rng = np.random.default_rng(seed)
    frames, targets = [], []
    for _ in range(n):
        style = draw_style(rng)
        shape = rng.uniform([0, 0.2, 0], [1, 1, 1])
        frame, marks = render_frame(style, shape, float(rng.uniform(0, 10)))
        present = rng.random() > 0.125
        if not present:
            frame = _no_face(style, rng)
        frames.append(frame)
        targets.append([*(marks.array() / 128.0), float(present)])
    return to_input(np.stack(frames)), torch.tensor(targets, dtype=torch.float32)


def _no_face(style, rng: np.random.Generator) -> np.ndarray:
    """A frame with the style's background, lighting and noise, and a few shapes but no face."""
    img = np.full((128, 128, 3), style.background, np.uint8)
    for _ in range(int(rng.integers(0, 4))):
        c = tuple(int(v) for v in rng.integers(0, 255, 3))
        p = tuple(int(v) for v in rng.integers(0, 128, 2))
        cv2.circle(img, p, int(rng.integers(5, 30)), c, -1)
    noise = rng.normal(0, style.noise, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def train_landmarks(n: int = 4000, epochs: int = 20, seed: int = 0) -> tuple[LandmarkNet, dict]:
    """Train :class:`LandmarkNet` on ``n`` rendered frames; report the held-out (seed + 1)
    mean landmark error in pixels of a 128-pixel frame and the presence accuracy."""
    torch.manual_seed(seed)
    x, y = landmark_training_set(n, seed)
    vx, vy = landmark_training_set(max(n // 8, 50), seed + 1)
    net = LandmarkNet()
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=epochs * ((n + 63) // 64))
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(n).split(64):
            out = net(x[idx])
            present = y[idx, 6:7]
            coord = (torch.abs(out[:, :6] - y[idx, :6]) * present).sum() / present.sum().clamp(
                min=1
            )
            loss = coord + 0.2 * nn.functional.binary_cross_entropy_with_logits(
                out[:, 6], y[idx, 6]
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    with torch.no_grad():
        out = net.eval()(vx)
    face = vy[:, 6] > 0.5
    err = (out[face, :6] - vy[face, :6]).reshape(-1, 3, 2).norm(dim=-1).mean().item() * 128
    acc = ((out[:, 6] > 0) == face).float().mean().item()
    return net, {
        "heldout_landmark_error_px": round(err, 3),
        "heldout_presence_acc": round(acc, 4),
        "train_frames": n,
        "epochs": epochs,
    }
