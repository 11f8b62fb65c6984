"""``perception vision``: train MENTOR (small or GPU config), evaluate it against the baselines,
export its ONNX graphs."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from perception.config import from_dict, load_yaml


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "vision",
        help="train, evaluate or export the multilingual text detector (MENTOR)",
        description="MENTOR scene-text detection with per-region language.",
    )
    vsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    tr = vsub.add_parser("train", help="train MENTOR and the script-ID baseline")
    tr.add_argument("--config", type=Path, required=True, help="e.g. configs/vision/small.yaml")
    tr.add_argument("--output", help="checkpoint path (overrides the config's output)")
    tr.add_argument("--time-budget-s", type=float, help="cap MENTOR's steps to fit this time")
    tr.set_defaults(run=_train)

    da = vsub.add_parser(
        "data",
        help="render a training config's crops into its data_cache, then embed them",
    )
    da.add_argument("--config", type=Path, required=True, help="e.g. configs/vision/large.yaml")
    da.set_defaults(run=_data)

    ev = vsub.add_parser("eval", help="MLT-protocol tables: MENTOR vs PP-OCRv4 vs script-ID")
    ev.add_argument("--config", type=Path, help="YAML with EvalConfig fields")
    ev.add_argument("--scenes", type=int, help="scenes per set (seen / unseen)")
    ev.add_argument("--weights", help="MENTOR checkpoint path or bundled name (mentor-small)")
    ev.add_argument("--threads", type=int, help="CPU threads")
    ev.add_argument(
        "--language-threshold", type=float, help="below it a region is 'unknown' (default 0.3)"
    )
    ev.set_defaults(run=_eval)

    ph = vsub.add_parser(
        "photos", help="language-ID, photo script and reading CER on the labelled real photos"
    )
    ph.add_argument("--folder", type=Path, help="photos with regions.json (default: tests/data)")
    ph.add_argument("--weights", help="MENTOR checkpoint path or bundled name")
    ph.add_argument("--detectors", default="mentor,script-id", help="comma-separated")
    ph.add_argument("--threads", type=int, default=0, help="CPU threads")
    ph.set_defaults(run=_photos)

    im = vsub.add_parser(
        "imbalance",
        help="group-imbalance sweep: one language's share of training crops vs its accuracy",
    )
    im.add_argument("--config", type=Path, default=Path("configs/vision/large.yaml"),
                    help="training config whose feature cache is used")  # fmt: skip
    im.add_argument("--language", default="ko", help="the seen language whose share is swept")
    im.add_argument("--shares", default="0.01,0.03,0.1,0.3", help="comma-separated shares")
    im.add_argument("--seeds", type=int, default=3, help="training seeds per share")
    im.add_argument("--out", type=Path, default=Path("bench/results/vision_imbalance.json"))
    im.set_defaults(run=_imbalance)

    ex = vsub.add_parser("export", help="ONNX of the detector, the recogniser and the Text Finder")
    ex.add_argument("--out", type=Path, default=Path("build/vision"), help="output folder")
    ex.add_argument("--weights", help="MENTOR checkpoint path or bundled name (mentor-small)")
    ex.set_defaults(run=_export)


def _train(args: argparse.Namespace) -> int:
    from perception.vision.train import TrainConfig, train

    cfg = load_yaml(TrainConfig, args.config)
    if args.output:
        cfg = dataclasses.replace(cfg, output=args.output)
    if args.time_budget_s is not None:
        cfg = dataclasses.replace(cfg, time_budget_s=args.time_budget_s)
    train(cfg)
    return 0


def _data(args: argparse.Namespace) -> int:
    from perception.errors import ConfigError
    from perception.vision.train import TrainConfig, load_features

    cfg = load_yaml(TrainConfig, args.config)
    if not cfg.data_cache:
        raise ConfigError(f"{args.config} sets no data_cache: nowhere to write the crops")
    load_features(cfg)
    return 0


def _eval(args: argparse.Namespace) -> int:
    from perception.vision.evaluate import EvalConfig, evaluate, format_sweep, format_tables

    cfg = load_yaml(EvalConfig, args.config) if args.config else from_dict(EvalConfig, {})
    overrides = {
        "scenes_per_set": args.scenes,
        "weights": args.weights,
        "threads": args.threads,
        "language_threshold": args.language_threshold,
    }
    cfg = dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    results = evaluate(cfg)
    print(format_tables(results, tuple(cfg.unseen_languages)))
    if cfg.sweep_thresholds:
        print("\nlanguage threshold sweep (fractions of matched regions, same pass):")
        print(format_sweep(results, tuple(cfg.sweep_thresholds)))
    return 0


def _photos(args: argparse.Namespace) -> int:
    from perception.vision.api import VisionOptions, load_detector
    from perception.vision.photos import PHOTOS, evaluate_photos, format_report

    for name in args.detectors.split(","):
        options = VisionOptions(detector=name, weights=args.weights or "", threads=args.threads)
        report = evaluate_photos(load_detector(options), args.folder or PHOTOS)
        print(format_report(name, report))
    return 0


def _imbalance(args: argparse.Namespace) -> int:
    import json

    from perception.vision.imbalance import ImbalanceConfig, format_table, run

    cfg = ImbalanceConfig(
        train_config=str(args.config),
        language=args.language,
        shares=tuple(float(x) for x in args.shares.split(",")),
        seeds=tuple(range(args.seeds)),
    )
    result = run(cfg)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(format_table(result))
    print(f"results: {args.out}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from perception.vision.export import export_all

    for path in export_all(args.out, args.weights or ""):
        print(path)
    return 0
