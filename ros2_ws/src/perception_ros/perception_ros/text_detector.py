"""Text detection node: sensor_msgs/Image on ``image`` → TextRegions on ``regions``.

Parameters are the fields of ``perception.vision.api.VisionOptions`` (``detector``,
``max_side_px``, ...) plus ``node.*``; ``node.publish_annotated`` adds ``image_annotated``.
"""

from __future__ import annotations

import time

from perception_msgs.msg import TextRegions
from sensor_msgs.msg import Image

from perception.ros import convert, pipeline
from perception_ros.base import ModelNode, spin


class TextDetectorNode(ModelNode):
    options_class = pipeline.vision_options_class()

    def load(self, options):
        self.model_id = options.detector
        return pipeline.load_text_detector(options)  # swap the model here

    def make_io(self) -> None:
        self.pub = self.add_publisher(TextRegions, "regions")
        self.annotated = (
            self.add_publisher(Image, "image_annotated")
            if self.node_options.publish_annotated
            else None
        )
        self.add_subscription(Image, "image", lambda m: self.offer((m, time.perf_counter())))

    def process(self, item) -> None:
        msg, received = item
        rgb = convert.image_to_rgb(msg)
        regions = self.model.detect(rgb)
        latency_ms = (time.perf_counter() - received) * 1e3
        self.pub.publish(
            convert.regions_to_msg(
                regions, msg.header, (rgb.shape[1], rgb.shape[0]), latency_ms, self.model_id
            )
        )
        if self.annotated is not None:
            from perception.bag.report import annotate

            self.annotated.publish(
                convert.rgb_to_image(annotate(rgb, [], tuple(regions)), msg.header)
            )


def main() -> int:
    return spin(TextDetectorNode, "text_detector")
