"""Region crops: line crops as rapidocr cuts them, the three views of a tall box, degradations."""

import random

import numpy as np
import pytest

from perception.vision.crops import crop_views, degrade, reflow_column, region_quad
from perception.vision.detectors import best_views, most_confident_view
from perception.vision.recognizer import line_crop


def _box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def _blocks() -> np.ndarray:
    """A light image with three dark blocks of different heights down a column."""
    image = np.full((200, 200, 3), 230, np.uint8)
    image[25:35, 85:105] = 20
    image[60:80, 85:105] = 20
    image[100:130, 85:105] = 20
    return image


def test_a_line_gets_one_view_and_a_column_three():
    image = _blocks()
    assert len(crop_views(image, _box(20, 20, 180, 60))) == 1
    views = crop_views(image, _box(75, 15, 115, 135))
    assert len(views) == 3 and all(v.ndim == 3 and v.dtype == np.uint8 for v in views)
    assert views[0].shape[:2] == (40, 120)  # the column turned to lie as a line


def test_the_turned_view_is_the_line_read_the_other_way_up():
    line, turned = crop_views(_blocks(), _box(75, 15, 115, 135))[:2]
    runs_line, runs_turned = _ink_runs(line), _ink_runs(turned)
    assert len(runs_line) == 3 and runs_line[0] != runs_line[-1]
    np.testing.assert_allclose(runs_turned, runs_line[::-1], atol=2)


def test_the_column_view_lays_glyph_tiles_side_by_side():
    column = np.concatenate([np.full((10, 10), v, np.float32) for v in (0.2, 0.5, 0.9)])
    row = reflow_column(column)
    assert row.shape == (10, 30)
    assert [float(row[5, x]) for x in (5, 15, 25)] == pytest.approx([0.2, 0.5, 0.9])


def test_curved_outlines_become_their_minimum_rectangle():
    outline = np.float32([[0, 0], [50, 5], [100, 0], [100, 20], [50, 25], [0, 20]])
    quad = region_quad(outline)
    assert quad.shape == (4, 2)
    assert quad[0, 0] <= quad[1, 0] and quad[0, 1] <= quad[3, 1]  # clockwise from top-left


def test_line_crop_turns_a_tall_region_as_rapidocr_does():
    image = np.zeros((100, 100, 3), np.uint8)
    image[10:90, 40:50] = 255
    crop = line_crop(image, _box(40, 10, 50, 90))
    assert crop.shape[:2] == (10, 80)


def test_degrade_changes_the_crop_and_keeps_its_shape():
    crop = np.full((48, 160, 3), 235, np.uint8)
    crop[14:34, ::12] = 15  # strokes
    rng = random.Random(0)
    outs = [degrade(crop, rng) for _ in range(8)]
    assert all(o.shape == crop.shape and o.dtype == np.uint8 for o in outs)
    assert all(not np.array_equal(o, crop) for o in outs)


def test_most_confident_view_picks_per_region_by_languages_only():
    prob = np.array([[0.5, 0.3, 0.2], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.6, 0.2, 0.2]])
    owner = np.array([0, 0, 0, 1])
    np.testing.assert_array_equal(best_views(prob, owner, 2, languages=2), [1, 3])
    np.testing.assert_array_equal(most_confident_view(prob, owner, 2, 2), prob[[1, 3]])
    # the last column is "unknown": a view is never chosen for its unknown probability
    prob = np.array([[0.3, 0.1, 0.6], [0.4, 0.1, 0.5]])
    np.testing.assert_array_equal(most_confident_view(prob, np.zeros(2, int), 1, 2), prob[[1]])


def _ink_runs(crop: np.ndarray) -> list[int]:
    """Lengths of the runs of columns holding dark ink, left to right."""
    ink = np.concatenate([[0], (crop.min(axis=(0, 2)) < 128).astype(int), [0]])
    starts, ends = np.flatnonzero(np.diff(ink) == 1), np.flatnonzero(np.diff(ink) == -1)
    return list(ends - starts)
