"""Image folder source: the images of a folder (sorted) as sensor_msgs/Image on ``image``.

Parameters: the fields of ``perception.ros.options.ImageFolderSourceOptions``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
from rclpy.node import Node
from sensor_msgs.msg import Image

from perception.errors import PerceptionError
from perception.ros import convert
from perception.ros.options import ImageFolderSourceOptions
from perception_ros.base import SENSOR_QOS, declare_options, run_plain

SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}


class ImageFolderSource(Node):
    def __init__(self) -> None:
        super().__init__("image_folder_source")
        self.o = declare_options(self, ImageFolderSourceOptions)
        self.files = sorted(p for p in Path(self.o.path).glob("*") if p.suffix.lower() in SUFFIXES)
        if not self.files:
            raise PerceptionError(
                f"no images ({', '.join(sorted(SUFFIXES))}) in folder "
                f"{self.o.path!r}; set the parameter path"
            )
        self.index, self.done = 0, False
        self.pub = self.create_publisher(Image, "image", SENSOR_QOS)
        self.started = self.get_clock().now()
        self.create_timer(1.0 / self.o.rate_hz, self.tick)

    def tick(self) -> None:
        if (self.get_clock().now() - self.started).nanoseconds * 1e-9 < self.o.start_delay_s:
            return
        if self.index >= len(self.files):
            if not self.o.loop:
                self.done = True
                return
            self.index = 0
        bgr = cv2.imread(str(self.files[self.index]), cv2.IMREAD_COLOR)
        self.index += 1
        if bgr is None:
            self.get_logger().warning(f"skipped unreadable image {self.files[self.index - 1]}")
            return
        header = convert.make_header(self.get_clock().now().to_msg(), self.o.frame_id)
        self.pub.publish(convert.rgb_to_image(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), header))


def main() -> int:
    return run_plain(ImageFolderSource)
