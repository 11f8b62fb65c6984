"""Message ↔ array conversions, without spinning: rosbags messages and rclpy messages."""

from __future__ import annotations

import numpy as np
import pytest

from perception.bag.io import typestore
from perception.ros import convert
from perception.speech.types import Hypothesis, Transcript
from perception.vision.types import TextRegion

STORE = typestore()
RNG = np.random.default_rng(0)


def _image(encoding: str, rgb: np.ndarray, step_pad: int = 0):
    h, w, _ = rgb.shape
    channels = {
        "rgb8": rgb,
        "bgr8": rgb[:, :, ::-1],
        "mono8": rgb[:, :, :1],
        "rgba8": np.dstack([rgb, np.full((h, w), 255, np.uint8)]),
    }[encoding]
    c = channels.shape[2]
    rows = np.zeros((h, w * c + step_pad), np.uint8)
    rows[:, : w * c] = channels.reshape(h, w * c)
    Image, Header, Time = (
        STORE.types[t]
        for t in ("sensor_msgs/msg/Image", "std_msgs/msg/Header", "builtin_interfaces/msg/Time")
    )
    return Image(
        header=Header(stamp=Time(sec=1, nanosec=5), frame_id="cam"),
        height=h,
        width=w,
        encoding=encoding,
        is_bigendian=0,
        step=w * c + step_pad,
        data=rows.reshape(-1),
    )


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "rgba8"])
def test_color_encodings_give_rgb(encoding):
    rgb = RNG.integers(0, 255, (4, 6, 3), dtype=np.uint8)
    out = convert.image_to_rgb(_image(encoding, rgb, step_pad=2))
    assert out.shape == (4, 6, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, rgb)


def test_mono_is_replicated():
    rgb = RNG.integers(0, 255, (3, 5, 3), dtype=np.uint8)
    out = convert.image_to_rgb(_image("mono8", rgb))
    np.testing.assert_array_equal(out, np.repeat(rgb[:, :, :1], 3, axis=2))


def test_wrong_encoding_and_corrupt_frame_are_errors():
    rgb = RNG.integers(0, 255, (4, 6, 3), dtype=np.uint8)
    bad = _image("rgb8", rgb)
    bad.encoding = "16UC1"
    with pytest.raises(convert.FrameError, match="not supported"):
        convert.image_to_rgb(bad)
    short = _image("rgb8", rgb)
    short.data = short.data[:-7]
    with pytest.raises(convert.FrameError, match="corrupt image"):
        convert.image_to_rgb(short)


def test_audio_chunk_checks_rate_and_downmixes():
    Chunk = STORE.types["perception_msgs/msg/AudioChunk"]
    Header = STORE.types["std_msgs/msg/Header"]
    Time = STORE.types["builtin_interfaces/msg/Time"]
    stereo = np.array([100, 300, -200, -400], np.int16)
    msg = Chunk(
        header=Header(stamp=Time(sec=0, nanosec=0), frame_id=""),
        sample_rate_hz=16000,
        channels=2,
        samples=stereo,
        sequence=0,
    )
    np.testing.assert_array_equal(convert.chunk_to_samples(msg), [200, -300])
    msg.sample_rate_hz = 44100
    with pytest.raises(convert.FrameError, match="16000"):
        convert.chunk_to_samples(msg)


def test_stamp_ns_is_exact():
    msg = _image("rgb8", np.zeros((1, 1, 3), np.uint8))
    msg.header.stamp.sec, msg.header.stamp.nanosec = 1_767_225_600, 123_456_789
    assert convert.stamp_ns(msg.header) == 1_767_225_600_123_456_789


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
    np.testing.assert_array_equal(convert.chunk_to_samples(chunk), np.arange(-5, 5))
    img = convert.rgb_to_image(np.full((2, 3, 3), 7, np.uint8), header)
    np.testing.assert_array_equal(convert.image_to_rgb(img), np.full((2, 3, 3), 7))


def test_generated_interfaces_import():
    pytest.importorskip("rclpy", reason="the ros extra is not installed")
    msgs = pytest.importorskip("perception_msgs.msg", reason="run scripts/build_ros_msgs.sh")
    from perception_msgs.action import Answer
    from perception_msgs.srv import CheckText, GenerateText

    assert msgs.Transcript().is_final is False
    assert hasattr(GenerateText.Request(), "prompt") and hasattr(CheckText.Response(), "labels")
    assert hasattr(Answer.Feedback(), "partial_answer")
