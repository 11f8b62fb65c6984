"""``perception launch FILE [name:=value ...]``: a ROS 2 YAML launch file, without ``launch``."""

from __future__ import annotations

import argparse
from pathlib import Path

from perception.ros.launch_file import load_launch, parse_cli_args
from perception.ros.launcher import run_plan


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "launch",
        help="run a ROS 2 YAML launch file (nodes as child processes)",
        description="Start the nodes of a launch file in the ROS 2 YAML format (the same file "
        "`ros2 launch` reads on a full install). Ctrl-C, a node dying or --duration stops every "
        "node. Discovery stays on this machine unless ROS_AUTOMATIC_DISCOVERY_RANGE is set.",
    )
    p.add_argument("file", type=Path, help="launch file, e.g. launch/perception.launch.yaml")
    p.add_argument("args", nargs="*", metavar="name:=value", help="launch arguments")
    p.add_argument("--duration", type=float, help="stop the graph after this many seconds")
    p.add_argument("--show-args", action="store_true", help="print the arguments and exit")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    plan = load_launch(args.file, parse_cli_args(args.args))
    if args.show_args:
        for name, value in plan.args.items():
            print(f"{name}:={value}")
        return 0
    return run_plan(plan, args.duration)
