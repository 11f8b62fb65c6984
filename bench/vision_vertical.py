"""Vertical CJK columns: named right with the three views vs the turned line alone, on 36 generated
columns (the test runs 24 of the same kind), for both bundled models (README, vision)."""

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package: the generator

import tests.vision.test_vertical_text as columns
from perception.models.store import ModelStore
from perception.vision.api import VisionOptions, load_detector
from perception.vision.crops import crop_views
from tests.vision.test_vertical_text import _column_scene, _right

columns.CODES = ["zh", "ja", "ko"] * 12
for weights in ("mentor-large", "mentor-small"):
    rng = random.Random(1)
    scenes = [_column_scene(code, rng) for code in columns.CODES]
    det = load_detector(VisionOptions(weights=weights, threads=1), ModelStore())
    views = _right(det, scenes, crop_views)
    line = _right(det, scenes, lambda image, box: crop_views(image, box)[:1])
    print(
        f"{weights}: {views} of {len(scenes)} right with the three views, "
        f"{line} with the line alone"
    )
