"""Camera source: an OpenCV capture device as sensor_msgs/Image (rgb8) on ``image``.

Parameters: the fields of ``perception.ros.options.CameraSourceOptions``.
"""

from __future__ import annotations

import cv2
from rclpy.node import Node
from sensor_msgs.msg import Image

from perception.errors import PerceptionError
from perception.ros import convert
from perception.ros.options import CameraSourceOptions
from perception_ros.base import SENSOR_QOS, declare_options, run_plain


class CameraSource(Node):
    def __init__(self) -> None:
        super().__init__("camera_source")
        self.o = declare_options(self, CameraSourceOptions)
        self.capture = cv2.VideoCapture(self.o.device)
        if not self.capture.isOpened():
            raise PerceptionError(
                f"cannot open camera device {self.o.device} (/dev/video"
                f"{self.o.device}); check the device parameter and permissions"
            )
        self.done = False
        self.pub = self.create_publisher(Image, "image", SENSOR_QOS)
        self.create_timer(1.0 / self.o.rate_hz, self.tick)

    def tick(self) -> None:
        ok, bgr = self.capture.read()
        if not ok:
            self.get_logger().warning("camera returned no frame", throttle_duration_sec=2.0)
            return
        header = convert.make_header(self.get_clock().now().to_msg(), self.o.frame_id)
        self.pub.publish(convert.rgb_to_image(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), header))

    def destroy_node(self) -> None:
        self.capture.release()
        super().destroy_node()


def main() -> int:
    return run_plain(CameraSource)
