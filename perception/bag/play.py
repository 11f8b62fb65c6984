"""Playing a bag onto live topics with rclpy: the recorded CDR bytes, at the recorded pace.

Owns pacing (log times scaled by ``rate``), one publisher per topic (sensor-data QoS for images
and audio, reliable for the rest) and counting what was published. Messages are not decoded.
Used by the ``bag_player`` node and by ``perception eval --live``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from perception.bag.io import BagError
from perception.ros.inputs import LIVE_AUDIO_TYPES, LIVE_IMAGE_TYPES, rclpy_class

STREAM_TYPES = {*LIVE_IMAGE_TYPES, *LIVE_AUDIO_TYPES}  # played with sensor-data QoS


def play(
    node: Any,
    path: Path,
    rate: float = 1.0,
    topics: tuple[str, ...] = (),
    stop: threading.Event | None = None,
    wait_for: Callable[[], bool] | None = None,
) -> Counter:
    """Publish the bag's messages from ``node``; returns messages published per topic.

    Args:
        node: an rclpy node (its context must be valid).
        rate: playback speed; 2.0 plays twice as fast as recorded.
        topics: topics to play (all when empty).
        wait_for: called before playing until it returns True (e.g. subscribers matched).
    """
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from rosbags.rosbag2 import Reader

    if not (Path(path) / "metadata.yaml").is_file():
        raise BagError(
            f"no bag at {str(path)!r}: expected a folder with metadata.yaml; set the "
            "path parameter to a bag recorded with `perception record`"
        )
    stop = stop or threading.Event()
    counts: Counter = Counter()
    with Reader(Path(path)) as reader:
        conns = [c for c in reader.connections if not topics or c.topic in topics]
        pubs = {}
        for c in conns:
            qos = (
                qos_profile_sensor_data
                if c.msgtype in STREAM_TYPES
                else QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
            )
            pubs[c.id] = node.create_publisher(rclpy_class(c.msgtype), c.topic, qos)
        while wait_for is not None and not wait_for() and not stop.is_set():
            time.sleep(0.05)
        start_wall, first_ns = time.monotonic(), None
        for conn, t_ns, raw in reader.messages(connections=conns):
            if stop.is_set():
                break
            first_ns = t_ns if first_ns is None else first_ns
            delay_s = (t_ns - first_ns) * 1e-9 / rate - (time.monotonic() - start_wall)
            if delay_s > 0:
                stop.wait(delay_s)
            pubs[conn.id].publish(bytes(raw))
            counts[conn.topic] += 1
    return counts
