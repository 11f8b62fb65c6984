"""Images per second on real photos, on CPU: rapidocr's PP-OCRv4 detector and its whole
pipeline (det + direction classifier + rec, the peers) against our pipeline with and without
language and reading, in one process.

Every detector runs on the same photos (``tests/data/photos``, or ``--images DIR``) after one
warm-up image, with the same thread count; the ratios to the peer are what to read, the absolute
rates depend on the machine and its load. Our full pipeline's time is also split into stages
(detection, crops, the one recogniser call, language heads). Never fails on a time.

    python bench/bench_vision.py [--threads 2] [--images DIR] [--repeats 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from perception.vision.api import VisionOptions, load_detector
from perception.vision.detectors import region_views

PHOTOS = Path(__file__).resolve().parents[1] / "tests" / "data" / "photos"


def rate(detect, images, repeats: int) -> float:
    detect(images[0])
    t0 = time.perf_counter()
    for _ in range(repeats):
        for image in images:
            detect(image)
    return repeats * len(images) / (time.perf_counter() - t0)


def peer(threads: int):
    """rapidocr's TextDetector with its defaults, on BGR images, ``threads`` threads."""
    import rapidocr_onnxruntime
    from rapidocr_onnxruntime.ch_ppocr_det import TextDetector
    from rapidocr_onnxruntime.utils import read_yaml

    root = Path(rapidocr_onnxruntime.__file__).parent
    cfg = read_yaml(str(root / "config.yaml"))["Det"]
    cfg.update(model_path=str(root / cfg["model_path"]), intra_op_num_threads=threads)
    detector = TextDetector(cfg)
    return lambda rgb: detector(np.ascontiguousarray(rgb[..., ::-1]))


def full_peer(threads: int):
    """rapidocr's whole pipeline (detector, direction classifier, recogniser), defaults."""
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=threads)
    return lambda rgb: engine(np.ascontiguousarray(rgb[..., ::-1]))


def stages(detector, images) -> dict[str, float]:
    """Mean milliseconds per image of each stage of the full pipeline."""
    total = {"detect": 0.0, "crops": 0.0, "recogniser": 0.0, "language": 0.0}
    for image in images:
        t0 = time.perf_counter()
        cands = detector.candidates(image)
        t1 = time.perf_counter()
        views, owner = region_views(image, cands)
        t2 = time.perf_counter()
        out = detector.recogniser(views)
        t3 = time.perf_counter()
        detector.label(out, owner, len(cands))
        t4 = time.perf_counter()
        for key, dt in zip(total, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            total[key] += dt * 1e3 / len(images)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=Path, default=PHOTOS, help="folder of photos")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--weights", default="", help="MENTOR checkpoint (default: bundled)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    paths = sorted(p for p in args.images.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    images = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in paths]
    common = {"threads": args.threads, "weights": args.weights}
    ours = {
        "ours: detector only": VisionOptions(detector="ppocr", read_text=False, **common),
        "ours: detector + reading": VisionOptions(detector="ppocr", **common),
        "ours: detector + MENTOR + reading": VisionOptions(detector="mentor", **common),
    }
    rates = {
        "rapidocr TextDetector (peer)": rate(peer(args.threads), images, args.repeats),
        "rapidocr det + cls + rec (full peer)": rate(
            full_peer(args.threads), images, args.repeats
        ),
    }
    detectors = {}
    for name, options in ours.items():
        detectors[name] = load_detector(options)
        rates[name] = rate(detectors[name].detect, images, args.repeats)
    regions = sum(len(detectors["ours: detector only"].candidates(i)) for i in images)
    print(f"{len(images)} photos from {args.images} ({regions} regions), {args.threads} threads")
    base = rates["rapidocr TextDetector (peer)"]
    for name, r in rates.items():
        print(f"  {name:36} {r:6.2f} images/s   {r / base:5.3f} x peer")
    full = (
        rates["ours: detector + MENTOR + reading"] / rates["rapidocr det + cls + rec (full peer)"]
    )
    print(f"  ours det + language + reading vs rapidocr det + cls + rec: {full:5.3f} x")
    split = stages(detectors["ours: detector + MENTOR + reading"], images)
    print("  full pipeline, ms per image: " + ", ".join(f"{k} {v:.0f}" for k, v in split.items()))


if __name__ == "__main__":
    main()
