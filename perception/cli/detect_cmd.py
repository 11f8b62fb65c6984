"""``perception detect``: text regions with a language and a reading per region, as text, JSON
or drawings."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from perception.config import to_dict
from perception.errors import one_line
from perception.settings import load_config
from perception.vision.api import VisionOptions, load_detector
from perception.vision.draw import draw_regions, read_image


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "detect",
        help="find text in images, name each region's language (MENTOR) and read it",
        description="Detect text regions, identify their language and read Chinese and Latin "
        "text (PP-OCRv4 recogniser). A file that fails is reported and the rest go on.",
    )
    p.add_argument("images", nargs="+", type=Path, help="image files (png, jpg, ...)")
    p.add_argument("--json", action="store_true", help="print one JSON object per image")
    p.add_argument("--draw", type=Path, metavar="DIR", help="write images with polygons here")
    p.add_argument("--config", type=Path, help="YAML config (PerceptionConfig fields)")
    p.add_argument("--detector", choices=["mentor", "ppocr", "script-id"], help="vision.detector")
    p.add_argument("--languages", help="comma-separated codes (vision.languages)")
    p.add_argument("--weights", help="MENTOR checkpoint path or bundled name (vision.weights)")
    p.add_argument("--language-threshold", type=float, help="vision.language_threshold")
    p.add_argument("--threads", type=int, help="vision.threads")
    p.add_argument("--min-side", type=int, help="vision.min_side_px (short side enlarged to it)")
    p.add_argument(
        "--whole-image",
        choices=["auto", "never", "always"],
        help="vision.whole_image: read the image as one region when it is a word or a line",
    )
    p.add_argument(
        "--no-read", action="store_true", help="skip reading the text (vision.read_text: false)"
    )
    p.set_defaults(run=_run)


def _options(args: argparse.Namespace) -> VisionOptions:
    base = load_config(args.config).vision
    overrides = {
        "detector": args.detector,
        "weights": args.weights,
        "language_threshold": args.language_threshold,
        "threads": args.threads,
        "min_side_px": args.min_side,
        "read_text": False if args.no_read else None,
        "whole_image": args.whole_image,
        "languages": tuple(c.strip() for c in args.languages.split(","))
        if args.languages
        else None,
    }
    return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


def _run(args: argparse.Namespace) -> int:
    detector = load_detector(_options(args))
    failed = 0
    for path in args.images:
        try:
            image = read_image(path)
            t0 = time.perf_counter()
            regions = detector.detect(image)
            ms = (time.perf_counter() - t0) * 1e3
            out = (
                draw_regions(image, regions, args.draw / f"{path.stem}.png") if args.draw else None
            )
        except Exception as exc:  # per-image guard: a bad image is counted, the rest go on
            failed += 1
            _report_error(args, path, exc)
            continue
        if args.json:
            print(
                json.dumps(
                    {
                        "path": str(path),
                        "detect_ms": round(ms, 1),
                        "mode": regions[0].mode if regions else "detect",
                        "regions": [to_dict(r) for r in regions],
                    },
                    ensure_ascii=False,
                )
            )
        else:
            _print_text(path, regions, ms, out)
    return 1 if failed else 0


def _print_text(path: Path, regions: list, ms: float, drawn: Path | None) -> None:
    whole = (
        " (the whole image, read as one word or line)"
        if any(r.mode == "whole-image" for r in regions)
        else ""
    )
    print(
        f"{path}: {len(regions)} region(s){whole} in {ms:.0f} ms"
        + (f" -> {drawn}" if drawn else "")
    )
    for r in regions:
        box = np.asarray(r.polygon_px)
        x0, y0 = box.min(0)
        x1, y1 = box.max(0)
        reading = f"{r.text!r} ({r.text_score:.2f})" if r.reader else r.text_note
        print(
            f"  {r.language:8} lang {r.language_score:.2f}  det {r.score:.2f}  "
            f"box [{x0:.0f},{y0:.0f} - {x1:.0f},{y1:.0f}]  {reading}"
        )


def _report_error(args: argparse.Namespace, path: Path, exc: Exception) -> None:
    if args.json:
        print(json.dumps({"path": str(path), "error": one_line(exc)}))
    print(f"perception detect: {path}: {one_line(exc)}", file=sys.stderr)
