"""Images per second at 640x480 on CPU: PP-OCRv4 detector alone vs detector + MENTOR.

Both run in this process on the same rendered scenes (the PP-OCRv4 baseline first, then MENTOR
with every default language), after one warm-up image each; the ratio is what to read, the
absolute rates depend on the machine and its load. Never fails on a time.

    python bench/bench_vision.py [--images 20] [--threads 1] [--runtime onnxruntime]
"""

from __future__ import annotations

import argparse
import time

import torch

from perception.vision.api import DEFAULT_LANGUAGES, VisionOptions, load_detector
from perception.vision.synth import render_scene


def rate(detector, images) -> float:
    detector.detect(images[0])
    t0 = time.perf_counter()
    for image in images:
        detector.detect(image)
    return len(images) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runtime", choices=["onnxruntime", "torch"], default="onnxruntime")
    parser.add_argument("--weights", default="", help="MENTOR checkpoint (default: bundled)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = [render_scene(2_000_000 + i, list(DEFAULT_LANGUAGES))[0] for i in range(args.images)]
    common = {"threads": args.threads, "runtime": args.runtime}
    base = rate(load_detector(VisionOptions(detector="ppocr", **common)), images)
    mentor_opts = VisionOptions(detector="mentor", weights=args.weights, **common)
    mentor = rate(load_detector(mentor_opts), images)
    print(f"640x480, {args.images} images, {args.threads} thread(s), runtime {args.runtime}")
    print(f"  PP-OCRv4 detector alone : {base:6.2f} images/s")
    print(f"  detector + MENTOR ({len(DEFAULT_LANGUAGES)} languages): {mentor:6.2f} images/s")
    print(f"  ratio MENTOR / PP-OCRv4 : {mentor / base:6.3f}")


if __name__ == "__main__":
    main()
