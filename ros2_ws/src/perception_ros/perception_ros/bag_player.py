"""Bag player: publishes a recorded bag (sqlite3 or MCAP) onto its topics, at the recorded pace.

Parameters: the fields of ``perception.ros.options.BagPlayerOptions``. Exits when the bag ends
(unless ``loop``). Remap topics with the usual ``-r /camera/image_raw:=/other``.
"""

from __future__ import annotations

import threading
import time

from rclpy.node import Node

from perception.bag.play import play
from perception.errors import one_line
from perception.ros.options import BagPlayerOptions
from perception_ros.base import declare_options, run_plain


class BagPlayer(Node):
    def __init__(self) -> None:
        super().__init__("bag_player")
        self.o = declare_options(self, BagPlayerOptions)
        self.done, self.error, self.stop = False, "", threading.Event()
        self._first_match: float | None = None
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                counts = play(
                    self,
                    self.o.path,
                    self.o.rate,
                    tuple(self.o.topics),
                    self.stop,
                    wait_for=self._subscribed if self.o.wait_for_subscribers else None,
                )
                self.get_logger().info(f"played {dict(counts)}")
                if not self.o.loop:
                    self.stop.wait(self.o.linger_s)
                    break
        except Exception as exc:  # any cause: the node exits 1 with the reason, never 0
            self.error = one_line(exc)
            self.get_logger().error(f"playing {self.o.path} failed: {self.error}")
        finally:
            self.done = True

    def _subscribed(self) -> bool:
        topics = [
            p for p in self.publishers if p.topic_name not in ("/rosout", "/parameter_events")
        ]
        if self._first_match is None and any(p.get_subscription_count() for p in topics):
            self._first_match = time.monotonic()
        return self._first_match is not None and (
            time.monotonic() - self._first_match >= self.o.settle_s
        )

    def destroy_node(self) -> None:
        self.stop.set()
        super().destroy_node()


def main() -> int:
    return run_plain(BagPlayer)
