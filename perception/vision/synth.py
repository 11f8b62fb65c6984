"""Synthetic multilingual scene text with MLT-style ground truth, deterministic from a seed.

This module owns the scene generator: procedural backgrounds (gradients, value noise, stripes,
clutter) and, for training scenes, windows of real photographs; words placed with rotation or
curvature, then a global perspective, lighting, blur,
sensor noise and occluders. Every region's polygon, language, script and text is recorded the way
ICDAR-MLT annotates it; a region mostly hidden by an occluder becomes "don't care".
It does not know any model; it uses the language registry for words and fonts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from perception.errors import require
from perception.vision.languages import Language, Split, get_language, load_registry, word_list
from perception.vision.render import text_mask

_WORDS_PER_LANGUAGE = 400
_OCCLUDED_DONT_CARE = 0.4


@dataclass(frozen=True)
class GroundTruth:
    """One annotated region: polygon (x, y) px clockwise from top-left, as in ICDAR-MLT."""

    polygon_px: tuple[tuple[float, float], ...]
    language: str
    script: str
    text: str
    dont_care: bool = False


def render_scene(
    seed: int,
    languages: list[str],
    size_px: tuple[int, int] = (640, 480),
    split: Split = "eval",
) -> tuple[np.ndarray, list[GroundTruth]]:
    """One synthetic scene.

    Args:
        seed: the scene is a pure function of (seed, languages, size_px, split).
        languages: registry codes to draw words from (each region picks one).
        size_px: (width, height) of the image.
        split: which word list ("train" or "eval"); the lists are disjoint.

    Returns:
        (image (H, W, 3) uint8 RGB, regions).
    """
    if not languages:
        raise ValueError("render_scene needs at least one language code, got an empty list")
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    registry = load_registry()
    langs = [get_language(c, registry) for c in languages]
    w, h = size_px
    photo = split == "train" and rng.random() < PHOTO_BACKGROUND_FRACTION
    image = _photo_background(nprng, rng, h, w) if photo else _background(nprng, rng, h, w)
    regions: list[GroundTruth] = []
    occupied = np.zeros((h, w), np.uint8)
    for _ in range(rng.randint(3, 9)):
        placed = _place_word(image, occupied, rng.choice(langs), rng, split, seed)
        if placed is not None:
            regions.append(placed)
    image, regions = _perspective(image, regions, rng)
    image, regions = _occlude(image, regions, rng)
    image = _photometric(image, nprng, rng)
    return image, regions


def _background(nprng: np.random.Generator, rng: random.Random, h: int, w: int) -> np.ndarray:
    kind = rng.choice(["gradient", "noise", "stripes", "flat"])
    base = nprng.uniform(0, 255, 3)
    other = nprng.uniform(0, 255, 3)
    if kind == "gradient":
        t = np.linspace(0, 1, w if rng.random() < 0.5 else h)
        ramp = t[None, :, None] if len(t) == w else t[:, None, None]
        img = np.broadcast_to(base * (1 - ramp) + other * ramp, (h, w, 3))
    elif kind == "noise":
        # value noise: a coarse random grid upsampled bicubically gives stone/foliage-like texture
        cells = nprng.uniform(0, 1, (rng.randint(3, 24), rng.randint(3, 24), 1)).astype(np.float32)
        t = cv2.resize(cells, (w, h), interpolation=cv2.INTER_CUBIC)[..., None]
        img = base * (1 - t) + other * t
    elif kind == "stripes":
        period = rng.randint(8, 60)
        ys, xs = np.mgrid[0:h, 0:w]
        t = ((xs * rng.uniform(-1, 1) + ys) // period % 2)[..., None]
        img = base * (1 - t) + other * t * 0.5 + base * t * 0.5
    else:
        img = np.broadcast_to(base, (h, w, 3))
    img = np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8))
    _clutter(img, rng)
    return img


# Training scenes drawn over real photographs (no text in them) as well as procedural textures:
# real surfaces (brick, grass, gravel, fur, coffee, a street camera, skies) that a robot's camera
# sees behind signs. scikit-image ships these images (BSD licence; sources in its data README).
PHOTO_BACKGROUND_FRACTION = 0.35
PHOTO_NAMES = ("brick", "camera", "chelsea", "coffee", "grass", "gravel", "hubble_deep_field",
               "immunohistochemistry", "moon", "retina", "clock", "coins")  # fmt: skip


@lru_cache(maxsize=1)
def _photos() -> tuple[np.ndarray, ...]:
    data = require("skimage.data", "dev")
    out = []
    for name in PHOTO_NAMES:
        img = np.asarray(getattr(data, name)())
        img = np.repeat(img[..., None], 3, 2) if img.ndim == 2 else img[..., :3]
        out.append(img.astype(np.uint8))
    return tuple(out)


def _photo_background(
    nprng: np.random.Generator, rng: random.Random, h: int, w: int
) -> np.ndarray:
    """A random window of a real photo, scaled to fill the frame, with a little clutter."""
    photo = _photos()[rng.randrange(len(PHOTO_NAMES))]
    ph, pw = photo.shape[:2]
    scale = max(h / ph, w / pw) * rng.uniform(1.0, 2.5)
    big = cv2.resize(photo, (int(np.ceil(pw * scale)), int(np.ceil(ph * scale))))
    y0, x0 = rng.randint(0, big.shape[0] - h), rng.randint(0, big.shape[1] - w)
    img = np.ascontiguousarray(big[y0 : y0 + h, x0 : x0 + w])
    if rng.random() < 0.5:
        img = np.ascontiguousarray(img[:, ::-1])
    _clutter(img, rng)
    return img


def _clutter(img: np.ndarray, rng: random.Random) -> None:
    h, w = img.shape[:2]
    for _ in range(rng.randint(0, 12)):
        color = tuple(rng.randint(0, 255) for _ in range(3))
        x, y = rng.randrange(w), rng.randrange(h)
        shape = rng.choice(["line", "rect", "circle"])
        if shape == "line":
            p2 = (x + rng.randint(-200, 200), y + rng.randint(-200, 200))
            cv2.line(img, (x, y), p2, color, rng.randint(1, 6))
        elif shape == "rect":
            p2 = (x + rng.randint(10, 150), y + rng.randint(10, 150))
            cv2.rectangle(img, (x, y), p2, color, rng.choice([-1, 2, 4]))
        else:
            cv2.circle(img, (x, y), rng.randint(5, 60), color, rng.choice([-1, 2]))


# Training regions cut to their first one or two characters ("P", "WC", a lone CJK glyph): with
# only words of 3+ characters in training, 1-2 glyph regions were named right 7 times in 36.
SHORT_TEXT_FRACTION = 0.15


def _place_word(
    image: np.ndarray,
    occupied: np.ndarray,
    lang: Language,
    rng: random.Random,
    split: Split,
    seed: int,
) -> GroundTruth | None:
    h, w = image.shape[:2]
    words = word_list(lang, split, _WORDS_PER_LANGUAGE, seed=0)
    text = " ".join(rng.choice(words) for _ in range(rng.choice([1, 1, 1, 2, 3])))
    if split == "train" and rng.random() < SHORT_TEXT_FRACTION:
        text = text.split(" ")[0][: rng.randint(1, 2)]
    size = rng.randint(max(12, h // 30), max(16, h // 9))
    mask = text_mask(text, rng.choice(lang.fonts), size).astype(np.float32) / 255.0
    if mask.shape[1] > 0.9 * w:
        return None
    mask, outline = _curve(mask, rng)
    angle = rng.uniform(-30, 30) if rng.random() < 0.35 else rng.uniform(-4, 4)
    for _ in range(12):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        m = cv2.getRotationMatrix2D((mask.shape[1] / 2, mask.shape[0] / 2), angle, 1.0)
        m[:, 2] += (cx - mask.shape[1] / 2, cy - mask.shape[0] / 2)
        poly = cv2.transform(outline[None], m)[0]
        if poly.min() < 2 or poly[:, 0].max() > w - 3 or poly[:, 1].max() > h - 3:
            continue
        region = np.zeros((h, w), np.uint8)
        cv2.fillPoly(region, [np.round(poly).astype(np.int32)], 1)
        if (region & occupied).any():
            continue
        occupied |= cv2.dilate(region, np.ones((5, 5), np.uint8))
        alpha = cv2.warpAffine(mask, m, (w, h))[..., None]
        _paint(image, alpha, region, rng)
        poly_t = tuple((float(x), float(y)) for x, y in poly)
        return GroundTruth(poly_t, lang.code, lang.script, text)
    return None


def _curve(mask: np.ndarray, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """Optionally bend the word along an arc; returns the mask and its outline polygon."""
    h, w = mask.shape
    xs = np.linspace(0, w - 1, 8)
    if rng.random() > 0.2:
        top = np.stack([xs, np.zeros_like(xs)], 1)
        bottom = np.stack([xs[::-1], np.full_like(xs, h - 1)], 1)
        outline = np.array([top[0], top[-1], bottom[0], bottom[-1]], np.float32)
        return mask, outline
    amp = rng.uniform(0.15, 0.5) * h * rng.choice([-1, 1])
    pad = int(abs(amp)) + 1

    def dy(x: np.ndarray) -> np.ndarray:
        return amp * np.sin(np.pi * x / max(w - 1, 1)) + pad

    map_x, map_y = np.meshgrid(
        np.arange(w, dtype=np.float32), np.arange(h + 2 * pad, dtype=np.float32)
    )
    map_y = map_y - dy(map_x).astype(np.float32)
    bent = cv2.remap(mask, map_x, map_y, cv2.INTER_LINEAR, borderValue=0)
    top = np.stack([xs, dy(xs)], 1)
    bottom = np.stack([xs[::-1], dy(xs[::-1]) + h - 1], 1)
    return bent, np.concatenate([top, bottom]).astype(np.float32)


def _paint(image: np.ndarray, alpha: np.ndarray, region: np.ndarray, rng: random.Random) -> None:
    """Text colour far from the local background so the word stays legible."""
    local = image[region.astype(bool)].mean(0) if region.any() else np.full(3, 128.0)
    lum = float(local.mean())
    target = rng.uniform(0, 70) if lum > 128 else rng.uniform(185, 255)
    color = np.clip(target + np.array([rng.uniform(-40, 40) for _ in range(3)]), 0, 255)
    out = image.astype(np.float32) * (1 - alpha) + color[None, None] * alpha
    image[...] = np.clip(out, 0, 255).astype(np.uint8)


def _perspective(
    image: np.ndarray, regions: list[GroundTruth], rng: random.Random
) -> tuple[np.ndarray, list[GroundTruth]]:
    """A mild camera tilt: corners move inwards, so every polygon stays inside the image."""
    h, w = image.shape[:2]
    src = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    j = 0.08 * min(w, h) * rng.random()
    dst = src + np.float32(
        [
            [rng.uniform(0, j), rng.uniform(0, j)],
            [-rng.uniform(0, j), rng.uniform(0, j)],
            [-rng.uniform(0, j), -rng.uniform(0, j)],
            [rng.uniform(0, j), -rng.uniform(0, j)],
        ]
    )
    m = cv2.getPerspectiveTransform(src, dst)
    border = tuple(int(v) for v in image[0, 0])
    warped = cv2.warpPerspective(
        image, m, (w, h), borderMode=cv2.BORDER_REPLICATE, borderValue=border
    )
    out = []
    for r in regions:
        pts = cv2.perspectiveTransform(np.float32(r.polygon_px)[None], m)[0]
        pts = np.clip(pts, 0, [w - 1, h - 1])
        out.append(
            GroundTruth(tuple((float(x), float(y)) for x, y in pts), r.language, r.script, r.text)
        )
    return warped, out


def _occlude(
    image: np.ndarray, regions: list[GroundTruth], rng: random.Random
) -> tuple[np.ndarray, list[GroundTruth]]:
    """Poles and signs in front of text; a region mostly hidden becomes don't-care (MLT "###")."""
    h, w = image.shape[:2]
    cover = np.zeros((h, w), np.uint8)
    for _ in range(rng.choice([0, 0, 1, 2])):
        x, y = rng.randrange(w), rng.randrange(h)
        p2 = (x + rng.randint(8, 80), y + rng.randint(20, 300))
        cv2.rectangle(cover, (x, y), p2, 1, -1)
    if not cover.any():
        return image, regions
    color = np.array([rng.randint(0, 255) for _ in range(3)], np.uint8)
    image = image.copy()
    image[cover.astype(bool)] = color
    out = []
    for r in regions:
        m = np.zeros((h, w), np.uint8)
        cv2.fillPoly(m, [np.round(np.float32(r.polygon_px)).astype(np.int32)], 1)
        hidden = (m & cover).sum() / max(int(m.sum()), 1)
        out.append(
            GroundTruth(
                r.polygon_px, r.language, r.script, r.text, bool(hidden > _OCCLUDED_DONT_CARE)
            )
        )
    return image, out


def _photometric(image: np.ndarray, nprng: np.random.Generator, rng: random.Random) -> np.ndarray:
    h, w = image.shape[:2]
    img = image.astype(np.float32)
    # lighting: a linear shading field, as from a lamp or the sun on one side of the frame
    gx, gy = nprng.uniform(-0.4, 0.4, 2)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    img *= np.clip(1 + gx * (xs / w - 0.5) + gy * (ys / h - 0.5), 0.4, 1.6)[..., None]
    if rng.random() < 0.5:
        k = rng.choice([3, 5])
        img = cv2.GaussianBlur(img, (k, k), 0)
    img += nprng.normal(0, rng.uniform(0, 8), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)
