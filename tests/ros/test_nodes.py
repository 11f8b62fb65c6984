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
from perception.ros.images import image_to_rgb
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
        drawn = image_to_rgb(annotated[0])
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


def _speech_node(ros_env, **params):
    import rclpy
    from perception_ros.speech import SpeechNode
    from rclpy.parameter import Parameter

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(ros_env["ROS_DOMAIN_ID"]))
    overrides = [Parameter(k, value=v) for k, v in params.items()]
    node = SpeechNode("speech", context=context, parameter_overrides=overrides)
    probe = rclpy.create_node("speech_probe", context=context)
    return context, node, probe


def _chunks(audio: np.ndarray, stamp_s: int = 3):
    from builtin_interfaces.msg import Time

    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    header = convert.make_header(Time(sec=stamp_s), "mic")
    return [
        convert.samples_to_chunk(pcm[i : i + 320], header, i // 320)
        for i in range(0, len(pcm), 320)
    ]


@pytest.mark.model
@pytest.mark.parametrize("ending", ["deactivate", "idle"])
def test_speech_node_never_drops_the_utterance_in_progress(ros_env, ending):
    """The stream stops mid-command (no trailing silence for the VAD to see): the node still
    publishes the words heard so far, on deactivation or after the stream goes idle."""
    from perception_msgs.msg import Transcript
    from perception_ros.base import RESULT_QOS
    from rclpy.lifecycle import TransitionCallbackReturn

    from perception.audio import load_audio
    from tests.conftest import SAMPLE_WAV

    context, node, probe = _speech_node(ros_env, **{"node.stream_idle_s": 0.3})
    got: list = []
    probe.create_subscription(Transcript, "/transcript", got.append, RESULT_QOS)
    try:
        ok = TransitionCallbackReturn.SUCCESS
        assert node.trigger_configure() == ok and node.trigger_activate() == ok
        audio = load_audio(SAMPLE_WAV)
        for msg in _chunks(audio[: int(4.4 * 16000)]):  # cut inside the second utterance
            node.on_chunk(msg)
        assert node.model.in_speech
        if ending == "deactivate":
            assert node.trigger_deactivate() == ok  # returns once the queue is drained
        else:
            time.sleep(0.5)
            node._end_idle_stream()  # the node's timer calls this every 0.1 s
        assert spin_until(probe, lambda: len(got) == 2, 60)
        assert "stop" in got[0].text.lower() and "turn left" in got[1].text.lower()
        assert got[1].header.frame_id == "mic"
        assert node.stats.summary().dropped == 0
    finally:
        probe.destroy_node()
        node.destroy_node()
        context.try_shutdown()


@pytest.mark.model
def test_speech_node_counts_and_logs_a_queue_overflow(ros_env):
    from rclpy.lifecycle import TransitionCallbackReturn

    context, node, probe = _speech_node(ros_env, **{"node.queue_size": 1})
    try:
        ok = TransitionCallbackReturn.SUCCESS
        assert node.trigger_configure() == ok and node.trigger_activate() == ok
        node.slot.close()  # the worker stops: nothing is taken from the queue
        node._worker.join(5)
        from perception.speech.types import Utterance

        for i in range(3):
            node._queue(Utterance(np.zeros(16000, np.float32), i, i + 1), None)
        s = node.stats.summary()
        assert (s.received, s.dropped) == (3, 2) and len(node.slot) == 1
    finally:
        probe.destroy_node()
        node.destroy_node()
        context.try_shutdown()


def test_an_input_type_the_nodes_cannot_take_fails_configure(ros_env):
    import rclpy
    from perception_ros.speech import SpeechNode
    from perception_ros.text_detector import TextDetectorNode
    from rclpy.lifecycle import TransitionCallbackReturn
    from rclpy.parameter import Parameter

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(ros_env["ROS_DOMAIN_ID"]))
    nodes = [
        TextDetectorNode(
            "td",
            context=context,
            parameter_overrides=[Parameter("node.image_type", value="sensor_msgs/PointCloud2")],
        ),
        SpeechNode(  # ros-drivers' type: bag replay only (one audio_common_msgs can be built)
            "sp",
            context=context,
            parameter_overrides=[
                Parameter("node.audio_type", value="audio_common_msgs/msg/AudioDataStamped")
            ],
        ),
    ]
    try:
        for node in nodes:
            assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
            assert node.model is None
    finally:
        for node in nodes:
            node.destroy_node()
        context.try_shutdown()


@pytest.mark.model
def test_speech_node_takes_audio_stamped_and_counts_a_bad_one(ros_env):
    """mgonzs13's AudioStamped (44.1 kHz int16 stereo) in; a buffer in an unknown PyAudio
    format is a counted failure, not a crash."""
    import array

    pytest.importorskip("audio_common_msgs.msg", reason="run scripts/build_ros_msgs.sh first")
    from audio_common_msgs.msg import AudioStamped
    from perception_msgs.msg import Transcript
    from perception_ros.base import RESULT_QOS
    from rclpy.lifecycle import TransitionCallbackReturn

    from perception.audio import load_audio, resample
    from tests.conftest import SAMPLE_WAV

    type_param = {"node.audio_type": "audio_common_msgs/AudioStamped"}
    context, node, probe = _speech_node(ros_env, **type_param)
    got: list = []
    probe.create_subscription(Transcript, "/transcript", got.append, RESULT_QOS)
    try:
        ok = TransitionCallbackReturn.SUCCESS
        assert node.trigger_configure() == ok and node.trigger_activate() == ok
        audio = resample(load_audio(SAMPLE_WAV)[: int(2.4 * 16000)], 16000, 44100)
        pcm = (np.repeat(audio[:, None], 2, axis=1) * 32767).astype(np.int16)
        for begin in range(0, len(pcm), 1024):
            msg = AudioStamped()
            msg.header.frame_id = "mic"
            msg.audio.info.format, msg.audio.info.channels, msg.audio.info.rate = 8, 2, 44100
            msg.audio.audio_data.int16_data = array.array("h", pcm[begin : begin + 1024].tobytes())
            node.on_chunk(msg)
        bad = AudioStamped()
        bad.audio.info.format, bad.audio.info.channels, bad.audio.info.rate = 4, 1, 16000
        node.on_chunk(bad)
        assert node.stats.summary().failed == 1
        assert node.trigger_deactivate() == ok  # ends the utterance in progress
        assert spin_until(probe, lambda: len(got) >= 1, 60)
        assert "stop" in got[0].text.lower() and got[0].header.frame_id == "mic"
    finally:
        probe.destroy_node()
        node.destroy_node()
        context.try_shutdown()


@pytest.mark.model
def test_speech_node_with_a_face_camera_says_who_spoke(ros_env):
    """av.enabled: the node subscribes to face_image, pairs frames with the audio by header
    stamps, and the transcript carries the AV text, P(the face said it) and the face's box; a
    corrupt face frame is counted, not fatal."""
    from builtin_interfaces.msg import Time
    from perception_msgs.msg import Transcript
    from perception_ros.base import RESULT_QOS
    from rclpy.lifecycle import TransitionCallbackReturn
    from sensor_msgs.msg import Image

    from perception.avsr.dataset import render_clip

    audio, frames, stamps, _ = render_clip("Go to the garage.", "speaking", "us", 150, 25, 3)
    audio = np.concatenate([audio, np.zeros(16000, np.float32)])  # silence ends the utterance
    context, node, probe = _speech_node(ros_env, **{"av.enabled": True})
    got: list = []
    probe.create_subscription(Transcript, "/transcript", got.append, RESULT_QOS)
    try:
        ok = TransitionCallbackReturn.SUCCESS
        assert node.trigger_configure() == ok and node.trigger_activate() == ok
        assert node.count_subscribers("/face_image") == 1
        for t, bgr in zip(stamps, frames, strict=True):
            sec, ns = 100 + int(t), int((t % 1) * 1e9)
            header = convert.make_header(Time(sec=sec, nanosec=ns), "face_camera")
            node.on_face(convert.rgb_to_image(bgr[..., ::-1].copy(), header))
        node.on_face(Image(encoding="rgb8", height=4, width=4, step=12, data=b"\x00" * 5))
        pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
        for i in range(0, len(pcm), 320):
            t = i / 16000
            header = convert.make_header(Time(sec=100 + int(t), nanosec=int((t % 1) * 1e9)), "mic")
            node.on_chunk(convert.samples_to_chunk(pcm[i : i + 320], header, i // 320))
        assert node.trigger_deactivate() == ok
        assert spin_until(probe, lambda: len(got) >= 1, 60)
        msg = got[0]
        assert 0.0 <= msg.speaker_prob <= 1.0 and msg.av_text
        assert len(msg.speaker_box) in (0, 4)
        assert (
            node.chunks["faces_failed"] == 1 and node.chunks["faces_received"] == len(frames) + 1
        )
    finally:
        probe.destroy_node()
        node.destroy_node()
        context.try_shutdown()


@pytest.mark.model
def test_speech_node_takes_context_from_a_parameter_and_its_service(ros_env):
    """``context.phrases`` sets the expected phrases at configure; ``~/set_context`` replaces
    them while the node runs (a robot's map changed)."""
    from perception_msgs.srv import SetContext
    from rclpy.lifecycle import TransitionCallbackReturn

    context, node, probe = _speech_node(ros_env, **{"context.phrases": ["kitchen", "dock"]})
    try:
        request, response = SetContext.Request(), SetContext.Response()
        assert not node.on_set_context(request, response).success  # not configured yet
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert node.model.recognizer.context == ("kitchen", "dock")
        names = dict(node.get_service_names_and_types())
        assert names["/speech/set_context"] == ["perception_msgs/srv/SetContext"]
        request.phrases = [" loading  dock", "", "Anna", "Anna"]
        response = node.on_set_context(request, SetContext.Response())
        assert response.success and list(response.phrases) == ["loading dock", "Anna"]
        assert node.model.recognizer.context == ("loading dock", "Anna")
    finally:
        probe.destroy_node()
        node.destroy_node()
        context.try_shutdown()
