"""Result and builder conversions, without spinning: rosbags messages and rclpy messages."""

from __future__ import annotations

import numpy as np
import pytest

from perception.bag.types import writer_typestore
from perception.ros import convert
from perception.ros.audio import chunk_to_block
from perception.ros.images import image_to_rgb
from perception.speech.types import Hypothesis, Transcript
from perception.vision.types import TextRegion

STORE = writer_typestore()


def test_stamp_ns_is_exact():
    Header, Time = (STORE.types[t] for t in ("std_msgs/msg/Header", "builtin_interfaces/msg/Time"))
    header = Header(stamp=Time(sec=1_767_225_600, nanosec=123_456_789), frame_id="cam")
    assert convert.stamp_ns(header) == 1_767_225_600_123_456_789


def test_rclpy_messages_round_trip():
    pytest.importorskip("rclpy", reason="the ros extra is not installed")
    pytest.importorskip("perception_msgs.msg", reason="run scripts/build_ros_msgs.sh first")
    from builtin_interfaces.msg import Time

    header = convert.make_header(Time(sec=3, nanosec=7), "cam")
    regions = [TextRegion(((0.0, 0.0), (10.0, 0.0), (10.0, 5.0)), 0.9, "zh", 0.7, "出口")]
    msg = convert.regions_to_msg(regions, header, (640, 480), 12.5, "ppocr")
    assert msg.header.stamp.nanosec == 7 and msg.image_width_px == 640
    assert convert.msg_to_regions(msg)[0].text == "出口"
    assert convert.msg_to_regions(msg)[0].polygon_px == regions[0].polygon_px
    t = Transcript(
        "go left",
        (Hypothesis("go left", -0.2),),
        "uadf",
        "en",
        1.0,
        2.5,
        0.01,
        {"asr": 40.0},
        ("whisper-tiny.en", "smollm2"),
    )
    back = convert.msg_to_transcript(convert.transcript_to_msg(t, header, 50.0))
    assert back.text == t.text and back.fusion == "uadf" and back.model_ids == t.model_ids
    assert back.nbest[0].avg_logprob == pytest.approx(-0.2)
    assert back.timings_ms == {"asr": 40.0}
    chunk = convert.samples_to_chunk(np.arange(-5, 5, dtype=np.int16), header, 9)
    block = chunk_to_block(chunk)
    assert block.rate_hz == 16000
    np.testing.assert_array_equal(block.samples * 32768, np.arange(-5, 5))
    img = convert.rgb_to_image(np.full((2, 3, 3), 7, np.uint8), header)
    np.testing.assert_array_equal(image_to_rgb(img), np.full((2, 3, 3), 7))


def test_generated_interfaces_import():
    pytest.importorskip("rclpy", reason="the ros extra is not installed")
    msgs = pytest.importorskip("perception_msgs.msg", reason="run scripts/build_ros_msgs.sh")
    from perception_msgs.action import Answer
    from perception_msgs.srv import CheckText, GenerateText

    assert msgs.Transcript().is_final is False
    assert hasattr(GenerateText.Request(), "prompt") and hasattr(CheckText.Response(), "labels")
    assert hasattr(Answer.Feedback(), "partial_answer")
