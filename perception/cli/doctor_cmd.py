"""``perception doctor``: what is installed and what works on this machine."""

from __future__ import annotations

import argparse
import json

from perception.config import to_dict
from perception.doctor import diagnose

_MARK = {"ok": "ok", "missing": "--", "failed": "XX", "info": "  "}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="report runtimes, GPUs, ROS 2, tools and model checksums",
        description="Probe torch/CUDA, onnxruntime providers, TensorRT, ROS 2, "
        "system tools, and verify every model in the store.",
    )
    p.add_argument("--json", action="store_true", help="one JSON list instead of a table")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    checks = diagnose()
    if args.json:
        print(json.dumps([to_dict(c) for c in checks], indent=1))
        return 0
    group = None
    for c in checks:
        if c.group != group:
            group = c.group
            print(f"[{group}]")
        print(f"  {_MARK[c.state]} {c.name:22} {c.detail}")
    bad_models = [c.name for c in checks if c.group == "models" and c.state != "ok"]
    if bad_models:
        print(f"\nmodels not ready: {', '.join(bad_models)}; run `perception models fetch`")
    return 0
