"""``perception asr-eval``: WER of AM-only, GER, static fusion and UADF on our noisy data."""

from __future__ import annotations

import argparse
from pathlib import Path

from perception.models.store import default_home
from perception.settings import load_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "asr-eval",
        help="WER of AM-only, GER, static fusion and UADF, per group",
        description="Render the espeak-ng + noise data set (once, deterministic from --seed), "
        "measure encoder trimming on dev, fit UADF's temperatures on the calibration "
        "split, tune the static weight on dev, and evaluate every method on the test "
        "split: WER overall and per voice / noise / sentence kind (worst named), and "
        "latency.",
    )
    p.add_argument("--data", type=Path, help="data folder (default: $PERCEPTION_HOME/data/speech)")
    p.add_argument("--seed", type=int, default=0, help="data and split seed")
    p.add_argument("--limit", type=int, help="use only the first N items of each split")
    p.add_argument(
        "--dev-limit",
        type=int,
        default=20,
        help="dev items for the window check and the static-weight search",
    )
    p.add_argument(
        "--test-every",
        type=int,
        default=2,
        help="keep every n-th test item (1 = all 100; 2 = 50, about 30 min on 2 cores)",
    )
    p.add_argument("--config", type=Path, help="YAML config (the speech section is used)")
    p.add_argument("--out", type=Path, default=Path("out/asr_eval.json"), help="JSON report")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from perception.speech.evaluate import EvalOptions, format_eval, run_eval

    data = args.data or default_home() / "data" / "speech"
    options = EvalOptions(
        data_dir=data, seed=args.seed, limit=args.limit, speech=load_config(args.config).speech
    )
    report = run_eval(options, args.out)
    print(format_eval(report))
    print(f"\nreport: {args.out}")
    return 0
