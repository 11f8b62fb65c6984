"""``perception avsr train`` and ``perception avsr-eval``: the visual models of the audio-visual
recogniser, and its WER-vs-SNR and active-speaker tables on the synthetic AV data."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "avsr-eval",
        help="AVSR: WER vs SNR (audio, static AV, AV-UADF) and the active-speaker gate",
        description="Render the synthetic talking-face splits (once), fit the temperatures on "
        "calibration, the static weight on dev, then measure audio-only, static AV fusion and "
        "AV-UADF at clean, 10, 5, 0 and -5 dB on test, with bootstrap intervals, and the "
        "active-speaker gate's precision and recall. Synthetic faces, closed vocabulary.",
    )
    p.add_argument("--data", type=Path, help="data folder (default: $PERCEPTION_HOME/data/avsr)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", default="", help="visual checkpoint (default: bundled)")
    p.add_argument("--limit", type=int, help="first N speaking test clips (quick runs)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("--out", type=Path, help="also write the full report (JSON) here")
    p.add_argument("--save", action="store_true", help="write the calibration beside the weights")
    p.set_defaults(run=_run_eval)

    a = sub.add_parser("avsr", help="AVSR tools: train the visual models")
    asub = a.add_subparsers(dest="avsr_command", required=True, metavar="COMMAND")
    t = asub.add_parser(
        "train",
        help="train the landmark and visual speech models; write the checkpoint and its card",
    )
    t.add_argument("--config", type=Path, default=Path("configs/avsr/train.yaml"))
    t.set_defaults(run=_run_train)


def _run_eval(args: argparse.Namespace) -> int:
    import torch

    from perception.avsr.evaluate import AvEvalOptions, evaluate, format_report, save_calibration

    torch.set_num_threads(args.threads)
    opts = AvEvalOptions(str(args.data or ""), args.seed, args.weights, args.limit)
    report = evaluate(opts)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    if args.save:
        save_calibration(report, args.weights)
    if args.json:
        print(json.dumps({k: report[k] for k in ("snr_db", "wer_interval_95", "gate")}))
    else:
        print(format_report(report))
    return 0


def _run_train(args: argparse.Namespace) -> int:
    from perception.avsr.train import AvTrainConfig, train
    from perception.config import load_yaml

    report = train(load_yaml(AvTrainConfig, args.config))
    print(json.dumps(report, indent=1))
    return 0
