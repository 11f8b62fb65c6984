"""``perception export``: every model to checked ONNX for a target profile, with manifests and
the TensorRT engine plan (engines themselves where TensorRT imports)."""

from __future__ import annotations

import argparse
from pathlib import Path

from perception.errors import ConfigError
from perception.export.profiles import MODELS, load_profile, profile_names
from perception.export.run import run_export, summary_table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export models to ONNX (+ TensorRT plan) for a target profile",
        description="Write each model's ONNX graph with checks, parity against torch, "
        "manifests and the TensorRT engine build plan for a target in export/<NAME>.yaml "
        f"({', '.join(profile_names())}).",
    )
    p.add_argument("--target", required=True, help="profile name in export/ or a YAML path")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument(
        "--models",
        default="",
        help=f"comma-separated subset of {','.join(MODELS)} (default: the profile's models)",
    )
    p.add_argument("--precision", choices=["fp32", "fp16", "int8"], default=None,
                   help="default: the profile's precision")  # fmt: skip
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    profile = load_profile(args.target)
    models = tuple(m for m in args.models.split(",") if m) or profile.models
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ConfigError(f"--models: unknown {unknown}; choose from {', '.join(MODELS)}")
    precision = args.precision or profile.precision
    print(f"export for {profile.name} ({profile.description}), {precision}, into {args.out}")
    results = run_export(profile, args.out, models, precision)
    print()
    print(summary_table(results))
    failed = [r.model for r in results if r.state == "failed"]
    return 1 if failed else 0
