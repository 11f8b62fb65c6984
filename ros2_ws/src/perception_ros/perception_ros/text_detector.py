"""Text detection node: camera frames on ``image`` → TextRegions on ``regions``.

Parameters are the fields of ``perception.vision.api.VisionOptions`` (``detector``,
``max_side_px``, ...) plus ``node.*``; ``node.image_type`` is the input type
(``sensor_msgs/msg/Image``, any common encoding, or ``sensor_msgs/msg/CompressedImage``, as
image_transport's compressed plugin publishes it); ``node.publish_annotated`` adds
``image_annotated``.
"""

from __future__ import annotations

import time

from perception_msgs.msg import TextRegions
from sensor_msgs.msg import Image

from perception.ros import convert, pipeline
from perception.ros.inputs import IMAGE_CONVERTERS, LIVE_IMAGE_TYPES, check_live_type, rclpy_class
from perception_ros.base import ModelNode, spin


class TextDetectorNode(ModelNode):
    options_class = pipeline.vision_options_class()

    def load(self, options):
        self.model_id = options.detector
        image_type = check_live_type(self.node_options.image_type, LIVE_IMAGE_TYPES, "image_type")
        self.input_class, self.to_rgb = rclpy_class(image_type), IMAGE_CONVERTERS[image_type]
        return pipeline.load_text_detector(options)  # swap the model here

    def extra_diagnostics(self) -> dict[str, object]:
        """The runtime's providers the detector really got (onnxruntime or torch)."""
        providers = getattr(self.model, "providers", ())
        return {"vision.providers": ", ".join(providers)} if providers else {}

    def make_io(self) -> None:
        self.pub = self.add_publisher(TextRegions, "regions")
        self.annotated = (
            self.add_publisher(Image, "image_annotated")
            if self.node_options.publish_annotated
            else None
        )
        self.add_subscription(
            self.input_class, "image", lambda m: self.offer((m, time.perf_counter()))
        )

    def process(self, item) -> None:
        msg, received = item
        rgb = self.to_rgb(msg)
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
