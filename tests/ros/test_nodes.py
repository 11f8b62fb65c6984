"""Real nodes in separate processes: real messages in, results out, bad input skipped and counted.

Each test runs on its own ROS domain with localhost discovery (see conftest.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from perception.ros import convert
from tests.ros.conftest import spin_until, start, stop

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.ros


def _diag(probe, name: str):
    from diagnostic_msgs.msg import DiagnosticArray
    from perception_ros.base import RESULT_QOS

    latest = {}

    def on_diag(msg):
        for status in msg.status:
            if status.name.endswith(name):
                latest["values"] = {v.key: v.value for v in status.values}

    probe.create_subscription(DiagnosticArray, "/diagnostics", on_diag, RESULT_QOS)
    return latest


@pytest.mark.model
def test_text_detector_node_skips_bad_frames_and_drops_when_behind(ros_env, probe, tmp_path):
    from builtin_interfaces.msg import Time
    from perception_msgs.msg import TextRegions
    from perception_ros.base import RESULT_QOS, SENSOR_QOS
    from sensor_msgs.msg import Image

    node = start(
        [
            "-m",
            "perception_ros",
            "text_detector",
            "--ros-args",
            "-p",
            "detector:=ppocr",
            "-p",
            "threads:=1",
            "-r",
            "image:=/t/image",
            "-r",
            "regions:=/t/regions",
            "-p",
            "node.publish_annotated:=true",
            "-r",
            "image_annotated:=/t/annotated",
        ],
        ros_env,
        tmp_path / "node.log",
    )
    try:
        pub = probe.create_publisher(Image, "/t/image", SENSOR_QOS)
        got: list = []
        probe.create_subscription(TextRegions, "/t/regions", got.append, RESULT_QOS)
        annotated: list = []
        probe.create_subscription(Image, "/t/annotated", annotated.append, RESULT_QOS)
        diag = _diag(probe, "text_detector")
        assert spin_until(probe, lambda: pub.get_subscription_count() > 0, 60), (
            tmp_path / "node.log"
        ).read_text()[-2000:]
        assert spin_until(probe, lambda: "values" in diag, 60)  # configured and active
        rgb = cv2.cvtColor(
            cv2.imread(str(REPO / "launch/sample_images/sign_0.jpg")), cv2.COLOR_BGR2RGB
        )

        def frame(fid):
            return convert.rgb_to_image(rgb, convert.make_header(Time(sec=7), fid))

        wrong, corrupt = frame("wrong"), frame("corrupt")
        wrong.encoding = "16UC1"
        corrupt.data = corrupt.data[:1000]
        for msg in (wrong, corrupt):  # spaced, so neither replaces the other in the slot
            pub.publish(msg)
            spin_until(probe, lambda: False, 0.5)
        for n, msg in enumerate((frame("good0"), frame("good1")), 1):
            pub.publish(msg)
            assert spin_until(probe, lambda n=n: len(got) == n, 30)
        assert [m.header.frame_id for m in got] == ["good0", "good1"]  # header copied
        assert got[0].image_width_px == 640 and len(got[0].regions) > 0
        assert spin_until(probe, lambda: len(annotated) == 2, 10)
        drawn = convert.image_to_rgb(annotated[0])
        assert annotated[0].header.frame_id == "good0" and drawn.shape == rgb.shape
        assert not np.array_equal(drawn, rgb)  # the polygons are drawn in
        assert spin_until(probe, lambda: diag["values"]["failed"] == "2", 5), diag
        for i in range(10):  # 10 frames in 0.1 s against ~0.2 s per frame: the newest wins
            pub.publish(frame(f"burst{i}"))
            time.sleep(0.01)

        # The sensor-data QoS keeps the 5 newest frames in the reader; under load DDS itself may
        # discard older burst frames before the node sees them, so the node's account covers the
        # frames it received: each one processed, dropped (newest wins) or failed.
        def settled() -> bool:
            v = {k: int(diag["values"][k]) for k in ("received", "processed", "dropped", "failed")}
            done = v["processed"] + v["dropped"] + v["failed"] == v["received"]
            return done and v["received"] >= 7 and got[-1].header.frame_id == "burst9"

        assert spin_until(probe, settled, 30), diag
        assert int(diag["values"]["dropped"]) > 0
    finally:
        assert stop(node) == 0, (tmp_path / "node.log").read_text()[-2000:]


def test_failed_configure_is_a_failure_with_the_cause(ros_env, tmp_path):
    node = start(
        ["-m", "perception_ros", "text_detector", "--ros-args", "-p", "max_side_px:=5"],
        ros_env,
        tmp_path / "node.log",
    )
    assert node.wait(60) == 1
    log = (tmp_path / "node.log").read_text()
    assert "configure failed" in log and "max_side_px" in log


@pytest.mark.model
def test_lifecycle_loads_in_configure_and_frees_in_cleanup(ros_env):
    import rclpy
    from perception_ros.text_detector import TextDetectorNode
    from rclpy.lifecycle import TransitionCallbackReturn
    from rclpy.parameter import Parameter

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(ros_env["ROS_DOMAIN_ID"]))
    node = TextDetectorNode(
        "td", context=context, parameter_overrides=[Parameter("detector", value="ppocr")]
    )
    try:
        success = TransitionCallbackReturn.SUCCESS
        for _ in range(2):  # a second configure after cleanup works the same
            assert node.model is None and node.count_subscribers("/image") == 0
            assert node.trigger_configure() == success
            assert node.model is not None and node.count_subscribers("/image") == 1
            assert node.trigger_activate() == success and node._active()
            assert node.trigger_deactivate() == success and not node._active()
            assert node.trigger_cleanup() == success
        assert node.model is None and node.count_subscribers("/image") == 0
    finally:
        node.destroy_node()
        context.try_shutdown()
