"""Tight word and line crops of real photos: the detector path against whole-image reading.

Every labelled Latin or Chinese region with a transcription in ``tests/data/photos/regions.json``
is cut out along its bounding rectangle (no margin), and the full detector runs on the crop with
``whole_image`` "never" (detected boxes only) and "auto" (the rule of
``perception/vision/whole_image.py``). Per setting: crops with any region, crops read exactly
(the regions' readings left to right, spaces ignored), crops whose script came out right, and which
mode ran; and on the 13 whole photos and 40 rendered scenes, how often "auto" took the whole
image (it should not).

    python bench/vision_whole_image.py [--threads 1]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from perception.vision.api import VisionOptions, load_detector
from perception.vision.evaluate import EVAL_SEED_OFFSET
from perception.vision.photos import PHOTOS, _read_rgb, script_of
from perception.vision.synth import render_scene


def crops() -> list[tuple[np.ndarray, str, str]]:
    """(crop, transcription without spaces, script) per labelled region."""
    doc = json.loads((PHOTOS / "regions.json").read_text(encoding="utf-8"))
    out = []
    for r in doc["regions"]:
        if r["text"] is None or r["script"] not in ("latin", "han"):
            continue
        q = np.asarray(r["polygon_px"], np.float32)
        (x0, y0), (x1, y1) = np.floor(q.min(0)).astype(int), np.ceil(q.max(0)).astype(int)
        image = _read_rgb(PHOTOS / r["photo"])[max(0, y0) : y1, max(0, x0) : x1]
        if min(image.shape[:2]) >= 4:
            out.append((np.ascontiguousarray(image), r["text"].replace(" ", ""), r["script"]))
    return out


def score(detector, items) -> dict:
    found = exact = script = 0
    modes: Counter = Counter()
    for image, text, truth in items:
        regions = sorted(detector.detect(image), key=lambda r: min(x for x, _ in r.polygon_px))
        found += bool(regions)
        exact += "".join(r.text for r in regions).replace(" ", "") == text
        script += (
            bool(regions) and script_of(max(regions, key=lambda r: r.score).language) == truth
        )
        modes[regions[0].mode if regions else "nothing"] += 1
    return {"crops": len(items), "found": found, "exact": exact, "script": script, "modes": modes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench/results/vision_whole_image.txt"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    items = crops()
    lines = [f"# python bench/vision_whole_image.py --threads {args.threads}"]
    for how in ("never", "auto"):
        detector = load_detector(VisionOptions(threads=args.threads, whole_image=how))
        r = score(detector, items)
        lines.append(
            f"whole_image={how}: {r['crops']} real crops, a region found in {r['found']}, "
            f"read exactly {r['exact']}, script right {r['script']}, modes {dict(r['modes'])}"
        )
    photos = sorted(p for p in PHOTOS.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    took = sum(
        bool(regions) and regions[0].mode == "whole-image"
        for regions in (detector.detect(_read_rgb(p)) for p in photos)
    )
    lines.append(f"whole photos taken whole by 'auto': {took} of {len(photos)}")
    scenes = [render_scene(EVAL_SEED_OFFSET + i, ["en", "ru", "zh"])[0] for i in range(40)]
    took = sum(any(r.mode == "whole-image" for r in detector.detect(s)) for s in scenes)
    lines.append(f"rendered scenes (3-9 words each) taken whole by 'auto': {took} of 40")
    print("\n".join(lines))
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
