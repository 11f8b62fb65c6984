"""Recording live topics into a bag (sqlite3 or MCAP) with rclpy and rosbags.

Owns discovery of the topics to record, raw (serialised) subscriptions and writing the CDR
bytes as received, so no message is decoded on the way. The only module of ``perception.bag``
that imports rclpy (inside :func:`record`).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from perception.bag.io import BagError, BagWriter, Storage
from perception.ros.inputs import rclpy_class


@dataclass(frozen=True)
class RecordResult:
    path: Path
    counts: dict[str, int]
    duration_s: float


def record(
    path: Path,
    topics: list[str],
    storage: Storage = "mcap",
    duration_s: float | None = None,
    discovery_s: float = 2.0,
    stop: threading.Event | None = None,
) -> RecordResult:
    """Record ``topics`` (all topics when empty) until ``duration_s`` or ``stop`` is set."""
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    from perception.ros.env import apply_safe_ros_env

    apply_safe_ros_env()
    stop = stop or threading.Event()
    rclpy.init()
    node = rclpy.create_node("perception_recorder")
    counts: Counter = Counter()
    lock = threading.Lock()
    try:
        types = _discover(node, topics, discovery_s)
        qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.BEST_EFFORT)  # accepts any
        with BagWriter(path, storage) as bag:

            def writer(topic: str, msgtype: str):
                def on_msg(data: bytes) -> None:
                    with lock:
                        bag.write_raw(topic, msgtype, data, time.time_ns())
                        counts[topic] += 1

                return on_msg

            for topic, type_name in types.items():
                node.create_subscription(
                    rclpy_class(type_name), topic, writer(topic, type_name), qos, raw=True
                )
            start = time.monotonic()
            while rclpy.ok() and not stop.is_set():
                if duration_s is not None and time.monotonic() - start >= duration_s:
                    break
                rclpy.spin_once(node, timeout_sec=0.1)
            return RecordResult(Path(path), dict(counts), time.monotonic() - start)
    finally:
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


def _discover(node, topics: list[str], discovery_s: float) -> dict[str, str]:
    """Topic → type; waits up to ``discovery_s`` for the requested topics to appear."""
    end = time.monotonic() + discovery_s
    while True:
        found = {
            name: types[0]
            for name, types in node.get_topic_names_and_types()
            if name not in ("/rosout", "/parameter_events")
        }
        wanted = {t: found[t] for t in topics if t in found} if topics else found
        if (topics and len(wanted) == len(topics)) or time.monotonic() >= end:
            break
        time.sleep(0.1)
    missing = sorted(set(topics) - set(wanted))
    if missing or not wanted:
        raise BagError(
            f"topics not found after {discovery_s} s: {missing or 'any'}; seen: "
            f"{sorted(found) or 'none'} (is the graph running on this ROS_DOMAIN_ID?)"
        )
    return wanted
