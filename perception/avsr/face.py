"""A talking face drawn from phoneme timings: espeak-ng phonemes → visemes → mouth shapes →
frames of a rendered face (skin tone, head pose, lighting, blur, sensor noise).

Everything here is synthetic: a cartoon face whose lips follow a viseme table written for this
project, not a model of real articulation. It exists because no audio-visual corpus is on
these machines; it tests the plumbing and the fusion, not lip reading of real people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# viseme: (mouth opening 0..1, mouth width 0..1, lip rounding 0..1)
VISEMES: dict[str, tuple[float, float, float]] = {
    "rest": (0.0, 0.5, 0.0),
    "closed": (0.0, 0.45, 0.1),  # p b m
    "labiodental": (0.12, 0.55, 0.0),  # f v
    "dental": (0.25, 0.6, 0.0),  # th
    "open": (0.95, 0.6, 0.1),  # a, aI, aU, V
    "mid": (0.55, 0.6, 0.0),  # E, e, @, 3
    "spread": (0.3, 0.9, 0.0),  # i, I, j
    "round": (0.4, 0.25, 1.0),  # o, u, w, O, U
    "postalveolar": (0.3, 0.35, 0.7),  # S Z tS dZ r
    "alveolar": (0.25, 0.6, 0.0),  # t d n l s z
    "velar": (0.4, 0.55, 0.0),  # k g N h
}


def viseme(phoneme: str) -> str:
    """The viseme class of an espeak-ng phoneme mnemonic (``_`` pauses → ``rest``)."""
    p = phoneme.lstrip("',%=").rstrip(":;")
    if not p or p.startswith("_"):
        return "rest"
    if p[0] in "pbm":
        return "closed"
    if p[0] in "fv":
        return "labiodental"
    if p[0] in "TD":
        return "dental"
    if p[0] in "SZr" or p.startswith(("tS", "dZ")):
        return "postalveolar"
    if p[0] in "wuUoO0":
        return "round"
    if p[0] in "aAV":
        return "open"
    if p[0] in "iIj":
        return "spread"
    if p[0] in "eE@3":
        return "mid"
    if p[0] in "kgNhx":
        return "velar"
    return "alveolar"


def mouth_track(
    phonemes: tuple[tuple[float, str], ...], duration_s: float, times_s: np.ndarray
) -> np.ndarray:
    """(len(times_s), 3) mouth shape (open, width, round) at each time: every phoneme's viseme
    held from its start to the next one's, smoothed over 60 ms (coarticulation)."""
    grid = np.arange(0.0, duration_s + 0.2, 0.005)
    shapes = np.tile(np.array(VISEMES["rest"]), (len(grid), 1))
    for (start, ph), (end, _) in zip(phonemes, [*phonemes[1:], (duration_s, "_")], strict=True):
        shapes[(grid >= start) & (grid < end)] = VISEMES[viseme(ph)]
    kernel = np.hanning(13)
    kernel /= kernel.sum()
    smooth = np.stack(
        [np.convolve(np.pad(shapes[:, k], 6, mode="edge"), kernel, "valid") for k in range(3)], 1
    )
    return np.stack([np.interp(times_s, grid, smooth[:, k]) for k in range(3)], 1)


SKIN_TONES = (  # BGR, light to dark
    (196, 216, 255),
    (160, 196, 241),
    (130, 172, 224),
    (106, 148, 198),
    (80, 120, 170),
    (60, 92, 141),
    (45, 66, 101),
    (34, 48, 72),
)


@dataclass(frozen=True)
class FaceStyle:
    """How one rendered face looks and moves (drawn per utterance)."""

    skin: tuple[int, int, int]
    background: tuple[int, int, int]
    center: tuple[float, float]  # face centre, fraction of the frame
    size: float  # face half-height, fraction of the frame height
    roll_deg: float
    yaw: float  # -1..1, features shift sideways
    light: float  # brightness gradient strength, left to right (-0.4..0.4)
    blur: float  # Gaussian sigma in pixels
    noise: float  # sensor noise std (0..255)
    sway: float  # head motion amplitude, fraction of the frame


def draw_style(rng: np.random.Generator) -> FaceStyle:
    bg = tuple(int(v) for v in rng.integers(40, 220, 3))
    return FaceStyle(
        skin=SKIN_TONES[rng.integers(len(SKIN_TONES))],
        background=bg,  # type: ignore[arg-type]
        center=(float(rng.uniform(0.35, 0.65)), float(rng.uniform(0.4, 0.6))),
        size=float(rng.uniform(0.26, 0.38)),
        roll_deg=float(rng.uniform(-15, 15)),
        yaw=float(rng.uniform(-0.5, 0.5)),
        light=float(rng.uniform(-0.4, 0.4)),
        blur=float(rng.uniform(0.0, 1.5)),
        noise=float(rng.uniform(0.0, 8.0)),
        sway=float(rng.uniform(0.0, 0.03)),
    )


@dataclass(frozen=True)
class Landmarks:
    """Pixel positions in a frame: the eyes and the mouth centre, and the face box."""

    left_eye: tuple[float, float]
    right_eye: tuple[float, float]
    mouth: tuple[float, float]
    box: tuple[float, float, float, float]  # x0, y0, x1, y1

    def array(self) -> np.ndarray:
        return np.array([*self.left_eye, *self.right_eye, *self.mouth], np.float32)


def render_frame(
    style: FaceStyle, shape: np.ndarray, t_s: float, size: tuple[int, int] = (128, 128)
) -> tuple[np.ndarray, Landmarks]:
    """One (H, W, 3) uint8 BGR frame of the face with mouth ``shape`` (open, width, round) at
    time ``t_s`` (for the head's sway), and where its landmarks are."""
    h, w = size
    ss = 2  # drawn at twice the size, then shrunk (anti-aliasing)
    img = np.full((h * ss, w * ss, 3), style.background, np.uint8)
    cx = (style.center[0] + style.sway * math.sin(2.1 * t_s)) * w * ss
    cy = (style.center[1] + style.sway * math.cos(1.3 * t_s)) * h * ss
    r = style.size * h * ss
    dx = style.yaw * 0.25 * r
    skin = tuple(int(v) for v in style.skin)
    cv2.ellipse(img, (int(cx), int(cy)), (int(0.78 * r), int(r)), 0, 0, 360, skin, -1)
    dark = tuple(int(v * 0.45) for v in skin)
    eyes = [(cx - 0.33 * r + dx, cy - 0.22 * r), (cx + 0.33 * r + dx, cy - 0.22 * r)]
    for ex, ey in eyes:
        cv2.ellipse(
            img, (int(ex), int(ey)), (int(0.13 * r), int(0.07 * r)), 0, 0, 360, (245, 245, 245), -1
        )
        cv2.circle(img, (int(ex), int(ey)), int(0.05 * r), (40, 30, 20), -1)
    cv2.line(
        img,
        (int(cx + dx * 1.3), int(cy - 0.05 * r)),
        (int(cx + dx * 1.3 - 0.06 * r), int(cy + 0.18 * r)),
        dark,
        max(1, int(0.03 * r)),
    )
    open_, width, rnd = (float(v) for v in shape)
    mx, my = cx + dx, cy + 0.45 * r
    half_w = r * (0.16 + 0.16 * width) * (1.0 - 0.35 * rnd)
    half_h = r * (0.035 + 0.16 * open_ + 0.04 * rnd)
    lips = (int(skin[0] * 0.55), int(skin[1] * 0.55), int(min(255, skin[2] * 0.85 + 40)))
    cv2.ellipse(img, (int(mx), int(my)), (int(half_w), int(half_h)), 0, 0, 360, lips, -1)
    if open_ > 0.05:
        inner = (int(half_w * 0.8), max(1, int(half_h * 0.75 * min(1.0, open_ * 1.5))))
        cv2.ellipse(img, (int(mx), int(my)), inner, 0, 0, 360, (25, 15, 30), -1)
        if open_ > 0.35:  # upper teeth
            cv2.ellipse(
                img,
                (int(mx), int(my - inner[1] * 0.55)),
                (int(inner[0] * 0.7), max(1, int(inner[1] * 0.3))),
                0,
                0,
                360,
                (225, 230, 235),
                -1,
            )
    else:
        cv2.line(
            img,
            (int(mx - half_w * 0.9), int(my)),
            (int(mx + half_w * 0.9), int(my)),
            (30, 20, 40),
            max(1, int(0.02 * r)),
        )
    rot = cv2.getRotationMatrix2D((cx, cy), style.roll_deg, 1.0)
    img = cv2.warpAffine(img, rot, (w * ss, h * ss), borderMode=cv2.BORDER_REPLICATE)
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    ramp = 1.0 + style.light * np.linspace(-1, 1, w, dtype=np.float32)
    img *= ramp[None, :, None]
    if style.blur > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), style.blur)
    if style.noise > 0:
        noise_rng = np.random.default_rng(int(t_s * 1000) + 7)
        img += noise_rng.normal(0, style.noise, img.shape).astype(np.float32)
    frame = np.clip(img, 0, 255).astype(np.uint8)

    def place(x: float, y: float) -> tuple[float, float]:
        px, py = rot @ np.array([x, y, 1.0])
        return float(px / ss), float(py / ss)

    corners = [place(cx + sx * 0.8 * r, cy + sy * r) for sx in (-1, 1) for sy in (-1, 1)]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    marks = Landmarks(
        place(*eyes[0]), place(*eyes[1]), place(mx, my), (min(xs), min(ys), max(xs), max(ys))
    )
    return frame, marks
