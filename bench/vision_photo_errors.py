"""The labelled Latin and Chinese photo regions that a labeller gets wrong (named another script,
below the 0.3 threshold, or not detected), with its language, probability and reading."""

import json
import sys

from perception.models.store import ModelStore
from perception.vision import photos
from perception.vision.api import VisionOptions, load_detector

detector, weights = (sys.argv[1:3] + ["mentor", "mentor-large"][len(sys.argv[1:3]) :])[:2]
doc = json.loads((photos.PHOTOS / "regions.json").read_text(encoding="utf-8"))
det = load_detector(
    VisionOptions(detector=detector, weights=weights, threads=1, language_threshold=0.0),
    ModelStore(),
)
by_photo: dict[str, list[dict]] = {}
for label in doc["regions"]:
    by_photo.setdefault(label["photo"], []).append(label)
for name, labels in by_photo.items():
    found = det.detect(photos._read_rgb(photos.PHOTOS / name))
    for label in labels:
        if label["script"] not in ("latin", "han"):
            continue
        region = photos._matched(found, label["polygon_px"])
        if (
            region is not None
            and photos.script_of(region.language) == label["script"]
            and region.language_score >= 0.3
        ):
            continue
        named = f"{region.language} {region.language_score:.3f} {region.text!r}" if region else "-"
        print(f"{name} {label['script']} {label['text']!r} -> {named}")
