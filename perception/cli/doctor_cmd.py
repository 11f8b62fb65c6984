"""``perception doctor``: what is installed and what works on this machine."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from perception.config import to_dict
from perception.doctor import diagnose, engine_checks, target_checks
from perception.export.profiles import load_profile
from perception.export.tensorrt import machine_here

_MARK = {"ok": "ok", "missing": "--", "failed": "XX", "info": "  "}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="report runtimes, GPUs, ROS 2, tools and model checksums",
        description="Probe torch/CUDA, onnxruntime providers, TensorRT, ROS 2, "
        "system tools, and verify every model in the store.",
    )
    p.add_argument("--json", action="store_true", help="one JSON list instead of a table")
    p.add_argument(
        "--target",
        default="",
        help="also report what this export profile (export/NAME.yaml) needs, held against "
        "this machine",
    )
    p.add_argument(
        "--engines", type=Path, default=None, help="check each *.engine manifest in this folder"
    )
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    checks = diagnose()
    if args.target:
        checks += target_checks(load_profile(args.target), args.engines)
    elif args.engines is not None:
        checks += engine_checks(args.engines, machine_here())
    if args.json:
        print(json.dumps([to_dict(c) for c in checks], indent=1))
        return 0
    group = None
    for c in checks:
        if c.group != group:
            group = c.group
            print(f"[{group}]")
        print(f"  {_MARK[c.state]} {c.name:22} {c.detail}")
    if args.target:
        out = f"build/{Path(args.target).stem}"
        print(f"\nexport for it: perception export --target {args.target} --out {out}")
    bad_models = [c.name for c in checks if c.group == "models" and c.state != "ok"]
    if bad_models:
        print(f"\nmodels not ready: {', '.join(bad_models)}; run `perception models fetch`")
    return 0
