"""The ``perception`` command line: one entry point, one module per subcommand.

Subcommand modules each expose ``add_parser(subparsers)``; name lookup stays here at the edge.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from perception import __version__
from perception.cli import (
    asr_eval_cmd,
    avsr_cmd,
    bag_cmd,
    demo_cmd,
    detect_cmd,
    doctor_cmd,
    eval_cmd,
    export_cmd,
    guard_cmd,
    languages_cmd,
    launch_cmd,
    llm_cmd,
    models_cmd,
    record_cmd,
    transcribe_cmd,
    vision_cmd,
)
from perception.errors import PerceptionError, one_line

# exit codes: 0 all inputs used, 1 some inputs counted as failed, 2 a user's mistake (bad option,
# config or file), 3 a bug or a library's failure (one line; the traceback with PERCEPTION_DEBUG=1)
EXIT_INTERNAL = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perception",
        description="Perception stack for mobile robots: speech, scene text, on-device LLMs.",
    )
    parser.add_argument("--version", action="version", version=f"perception {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        models_cmd,
        doctor_cmd,
        transcribe_cmd,
        asr_eval_cmd,
        avsr_cmd,
        launch_cmd,
        record_cmd,
        bag_cmd,
        eval_cmd,
        demo_cmd,
        export_cmd,
        detect_cmd,
        languages_cmd,
        vision_cmd,
        guard_cmd,
        llm_cmd,
    ):
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except PerceptionError as exc:
        print(f"perception {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"perception {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last boundary: one line, never a traceback unless asked
        if os.environ.get("PERCEPTION_DEBUG"):
            traceback.print_exc()
        print(
            f"perception {args.command}: internal error: {one_line(exc)} (set PERCEPTION_DEBUG=1 "
            "for the traceback and report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
