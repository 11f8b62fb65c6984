"""Vertical CJK columns (upright glyphs stacked top to bottom), labelled by the bundled default
model through the column view; read only as a line turned on its side, every glyph lies on its
side and the labels are worse."""

import random

import numpy as np
import pytest

from perception.vision.api import VisionOptions, load_detector
from perception.vision.crops import crop_views
from perception.vision.detectors import most_confident_view
from perception.vision.languages import load_registry, word_list
from perception.vision.render import text_mask

pytestmark = pytest.mark.model
CODES = ["zh", "ja", "ko"] * 8


def _column_scene(code: str, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """A light image with a dark column of 4 glyphs; and the column's box (4, 2)."""
    language = load_registry()[code]
    glyphs = [c for w in word_list(language, "eval", 50, seed=5) for c in w if c.strip()]
    masks = [text_mask(c, language.fonts[0], rng.randint(28, 44)) for c in rng.sample(glyphs, 4)]
    width = max(m.shape[1] for m in masks)
    column = np.zeros((sum(m.shape[0] for m in masks), width), np.float32)
    y = 0
    for m in masks:
        x = (width - m.shape[1]) // 2
        column[y : y + m.shape[0], x : x + m.shape[1]] = m
        y += m.shape[0]
    image = np.full((480, 640, 3), 220.0, np.float32)
    x0, y0 = rng.randint(100, 500), rng.randint(20, 460 - column.shape[0])
    patch = image[y0 : y0 + column.shape[0], x0 : x0 + width]
    patch[:] = patch * (1 - column[..., None]) + 30.0 * column[..., None]
    x1, y1 = x0 + width, y0 + column.shape[0]
    box = np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    return image.astype(np.uint8), box


def _right(det, scenes, views) -> int:
    right = 0
    for (image, box), code in zip(scenes, CODES, strict=True):
        crops = views(image, box)
        prob, classes = det.probabilities(det.recogniser(crops, read=False).features)
        row = most_confident_view(prob, np.zeros(len(crops), int), 1, len(classes))[0]
        right += classes[int(np.argmax(row[: len(classes)]))] == code
    return right


def test_vertical_cjk_columns_are_named_through_the_column_view(store):
    rng = random.Random(0)
    scenes = [_column_scene(c, rng) for c in CODES]
    det = load_detector(VisionOptions(), store)
    with_views = _right(det, scenes, crop_views)
    sideways = _right(det, scenes, lambda image, box: crop_views(image, box)[:1])
    assert with_views >= 18 and with_views >= sideways + 3, (with_views, sideways)
