"""``perception record OUT [TOPIC ...]``: record live topics into a new bag (MCAP or sqlite3)."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from perception.bag.record import record


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record",
        help="record ROS 2 topics into a bag",
        description="Subscribe to the topics (all when none are given) and write each message "
        "as received into a new bag folder, until Ctrl-C or --duration.",
    )
    p.add_argument("out", type=Path, help="new bag folder")
    p.add_argument("topics", nargs="*", help="topics to record (default: all)")
    p.add_argument("--storage", choices=["mcap", "sqlite3"], default="mcap")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--discovery", type=float, default=3.0, help="seconds to wait for topics")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    result = record(args.out, args.topics, args.storage, args.duration, args.discovery, stop)
    for topic, n in sorted(result.counts.items()):
        print(f"{topic}: {n} messages")
    print(
        f"recorded {sum(result.counts.values())} messages in {result.duration_s:.1f} s "
        f"into {result.path}"
    )
    return 0
