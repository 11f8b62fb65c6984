"""`perception launch` and `perception record` as a user runs them: real processes, real topics."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from perception.audio import resample
from perception.bag.io import BagReadStatus, read_bag
from perception.eval.wer import count_errors
from perception.ros.images import image_to_rgb
from tests.conftest import SAMPLE_TEXT, SAMPLE_WAV
from tests.ros.conftest import spin_until, start, stop

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.ros


def _launch_file(tmp_path: Path, nodes: list[dict]) -> Path:
    path = tmp_path / "test.launch.yaml"
    path.write_text(yaml.safe_dump({"launch": [{"node": n} for n in nodes]}))
    return path


@pytest.mark.model
@pytest.mark.slow
def test_launch_speech_graph_and_ctrl_c(ros_env, probe, tmp_path):
    from perception_msgs.msg import Transcript
    from perception_ros.base import RESULT_QOS

    launch = _launch_file(
        tmp_path,
        [
            {
                "pkg": "perception_ros",
                "exec": "wav_source",
                "name": "mic",
                "param": [{"name": "path", "value": str(SAMPLE_WAV)}],
                "remap": [{"from": "audio", "to": "/a/chunks"}],
            },
            {
                "pkg": "perception_ros",
                "exec": "speech",
                "name": "speech",
                "param": [{"from": str(REPO / "launch/params/speech.yaml")}],
                "remap": [
                    {"from": "audio", "to": "/a/chunks"},
                    {"from": "transcript", "to": "/a/text"},
                ],
            },
        ],
    )
    got: list = []
    probe.create_subscription(Transcript, "/a/text", got.append, RESULT_QOS)
    proc = start(["-m", "perception", "launch", str(launch)], ros_env, tmp_path / "launch.log")
    log = tmp_path / "launch.log"
    try:
        heard = lambda: " ".join(m.text for m in got).lower()  # noqa: E731
        # the whole clip went through the graph, start included
        assert spin_until(probe, lambda: "charging station" in heard(), 120), (
            SAMPLE_TEXT,
            heard(),
            log.read_text()[-3000:],
        )
        assert heard().startswith("robot")
        assert count_errors(SAMPLE_TEXT, heard()).rate <= 0.2, (SAMPLE_TEXT, heard())
        assert got[0].fusion == "none" and got[0].is_final and got[0].header.frame_id == "mic"
        assert got[0].latency_ms > 0 and any(t.stage for t in got[0].timings)
    finally:
        code = stop(proc, timeout_s=30)
    out = log.read_text()
    assert code == 0, out[-3000:]
    assert "[launch] speech exited with 0" in out and "[launch] mic exited with 0" in out


def _wait_active(probe, node: str, timeout_s: float) -> bool:
    """True once the lifecycle node ``node`` reports the active state."""
    from lifecycle_msgs.srv import GetState

    client = probe.create_client(GetState, f"/{node}/get_state")
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if client.wait_for_service(timeout_sec=0.5):
            future = client.call_async(GetState.Request())
            spin_until(probe, future.done, 5)
            if future.done() and future.result().current_state.label == "active":
                return True
        spin_until(probe, lambda: False, 0.5)
    return False


def _audio_stamped(pcm: np.ndarray, rate_hz: int, seq: int):
    """mgonzs13's AudioStamped, float32 frames (N, channels) (PyAudio paFloat32 = 1)."""
    import array

    from audio_common_msgs.msg import AudioStamped
    from builtin_interfaces.msg import Time

    msg = AudioStamped()
    msg.header.stamp, msg.header.frame_id = Time(sec=seq // 50, nanosec=0), "mic"
    msg.audio.info.format, msg.audio.info.rate = 1, rate_hz
    msg.audio.info.channels, msg.audio.info.chunk = pcm.shape[1], pcm.shape[0]
    msg.audio.audio_data.float32_data = array.array("f", pcm.astype(np.float32).tobytes())
    return msg


@pytest.mark.model
@pytest.mark.slow
def test_robot_launch_listens_to_audio_stamped_and_compressed_images(ros_env, probe, tmp_path):
    """robot.launch.yaml with topic arguments; the probe publishes what audio_common's capture
    node (48 kHz stereo float32 buffers of 1024 frames) and a compressed camera publish."""
    pytest.importorskip("audio_common_msgs.msg", reason="run scripts/build_ros_msgs.sh first")
    from audio_common_msgs.msg import AudioStamped
    from perception_msgs.msg import TextRegions, Transcript
    from perception_ros.base import AUDIO_QOS, RESULT_QOS, SENSOR_QOS
    from sensor_msgs.msg import CompressedImage

    from perception.audio import load_audio

    args = ["image_topic:=/r/cam/compressed", "audio_topic:=/r/audio", "detector:=ppocr"]
    args += ["transcript_topic:=/r/text", "regions_topic:=/r/regions"]
    launch = REPO / "launch/robot.launch.yaml"
    log = tmp_path / "launch.log"
    proc = start(["-m", "perception", "launch", str(launch), *args], ros_env, log)
    texts, regions = [], []
    probe.create_subscription(Transcript, "/r/text", texts.append, RESULT_QOS)
    probe.create_subscription(TextRegions, "/r/regions", regions.append, RESULT_QOS)
    mic = probe.create_publisher(AudioStamped, "/r/audio", AUDIO_QOS)
    cam = probe.create_publisher(CompressedImage, "/r/cam/compressed", SENSOR_QOS)
    try:
        for node in ("speech", "text_detector"):  # inputs reaching an inactive node are dropped
            assert _wait_active(probe, node, 120), log.read_text()[-3000:]
        jpeg = (REPO / "launch/sample_images/sign_0.jpg").read_bytes()
        frame = CompressedImage(format="jpeg", data=jpeg)
        frame.header.frame_id = "camera_color_optical_frame"
        cam.publish(frame)
        audio = resample(load_audio(SAMPLE_WAV), 16000, 48000)
        stereo = np.stack([audio, audio * 0.8], axis=1)
        for seq, begin in enumerate(range(0, len(stereo), 1024)):
            mic.publish(_audio_stamped(stereo[begin : begin + 1024], 48000, seq))
            spin_until(probe, lambda: False, 0.01)  # about 2x real time
        heard = lambda: " ".join(m.text for m in texts).lower()  # noqa: E731
        assert spin_until(probe, lambda: "charging station" in heard(), 90), (
            heard(),
            log.read_text()[-3000:],
        )
        assert count_errors(SAMPLE_TEXT, heard()).rate <= 0.2, (SAMPLE_TEXT, heard())
        assert texts[0].header.frame_id == "mic"
        assert spin_until(probe, lambda: len(regions) >= 1, 30), log.read_text()[-3000:]
        assert regions[0].header.frame_id == "camera_color_optical_frame"
        assert regions[0].image_width_px == 640 and len(regions[0].regions) > 0
    finally:
        code = stop(proc, timeout_s=30)
    assert code == 0, log.read_text()[-3000:]


def test_launch_shuts_the_graph_down_when_a_node_dies(ros_env, tmp_path):
    launch = _launch_file(
        tmp_path,
        [
            {
                "pkg": "perception_ros",
                "exec": "image_folder_source",
                "name": "camera",
                "param": [{"name": "path", "value": str(REPO / "launch/sample_images")}],
            },
            {
                "pkg": "perception_ros",
                "exec": "image_folder_source",
                "name": "broken",
                "param": [{"name": "path", "value": str(tmp_path / "no_such_folder")}],
            },
        ],
    )
    proc = start(["-m", "perception", "launch", str(launch)], ros_env, tmp_path / "launch.log")
    try:
        code = proc.wait(60)
    finally:
        stop(proc)
    out = (tmp_path / "launch.log").read_text()
    assert code == 1, out
    assert "node(s) died: {'broken': 1}" in out and "no images" in out
    assert "[launch] camera exited with 0" in out  # stopped by SIGINT, cleanly


def test_record_round_trip(ros_env, tmp_path):
    folder = REPO / "launch/sample_images"
    source = start(
        [
            "-m",
            "perception_ros",
            "image_folder_source",
            "--ros-args",
            "-p",
            f"path:={folder}",
            "-p",
            "rate_hz:=5.0",
            "-p",
            "start_delay_s:=0.0",
            "-r",
            "image:=/cam/image",
        ],
        ros_env,
        tmp_path / "source.log",
    )
    try:
        rec = start(
            [
                "-m",
                "perception",
                "record",
                str(tmp_path / "bag"),
                "/cam/image",
                "--duration",
                "3",
                "--storage",
                "sqlite3",
            ],
            ros_env,
            tmp_path / "rec.log",
        )
        assert rec.wait(60) == 0, (tmp_path / "rec.log").read_text()
    finally:
        assert stop(source) == 0
    status = BagReadStatus()
    items = list(read_bag(tmp_path / "bag", status))
    assert status.error == "" and len(items) >= 5, (tmp_path / "rec.log").read_text()
    expected = [
        cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in sorted(folder.glob("*.jpg"))
    ]
    for item in items:
        assert item.msgtype == "sensor_msgs/msg/Image"
        rgb = image_to_rgb(item.msg)
        assert any(np.array_equal(rgb, e) for e in expected)


@pytest.mark.model
@pytest.mark.slow
def test_eval_through_the_live_nodes_accounts_for_every_frame(ros_env, tmp_path):
    from perception.bag.sample import SampleSpec, SpokenLine, write_sample_bag

    spec = SampleSpec(frames=3, lines=(SpokenLine("Go to the kitchen and wait.", "en-us"),))
    write_sample_bag(tmp_path / "sample", spec)
    config = tmp_path / "eval.yaml"
    config.write_text("vision: {detector: ppocr, threads: 1}\nspeech: {asr: {device: cpu}}\n")
    proc = start(
        [
            "-m",
            "perception",
            "eval",
            str(tmp_path / "sample"),
            "--live",
            "2.0",
            "--config",
            str(config),
            "--out",
            str(tmp_path / "report"),
        ],
        ros_env,
        tmp_path / "eval.log",
    )
    try:
        code = proc.wait(240)
    finally:
        stop(proc)
    out = (tmp_path / "eval.log").read_text()
    assert code == 0, out[-3000:]
    summary = json.loads((tmp_path / "report" / "report.json").read_text())
    frames = summary["messages"]["/camera/image_raw"]
    sent = spec.frames + 1 + len(spec.photos)  # the rendered scenes, the sign, the photos
    assert frames["received"] == sent
    assert frames["processed"] + frames["failed"] + frames["skipped"] == sent
    assert summary["vision"]["hmean"]["overall"] is not None
    assert summary["speech"]["wer"]["overall"] is not None
    assert "[launch] eval_speech exited with 0" in out


def test_bag_player_and_record_round_trip(ros_env, tmp_path):
    from perception.bag.io import BagWriter, chunk_msg, image_msg

    rgb = np.random.default_rng(3).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    with BagWriter(tmp_path / "in", "mcap") as bag:
        for i in range(25):
            t_ns = 1_000_000_000 + i * 20_000_000
            bag.write("/mic", chunk_msg(bag, np.full(320, i, np.int16), t_ns, "mic", i), t_ns)
            if i % 10 == 0:
                bag.write("/cam", image_msg(bag, rgb, t_ns, "cam"), t_ns)
    player = start(
        ["-m", "perception_ros", "bag_player", "--ros-args", "-p", f"path:={tmp_path / 'in'}"],
        ros_env,
        tmp_path / "player.log",
    )
    rec = start(
        [
            "-m",
            "perception",
            "record",
            str(tmp_path / "out"),
            "/mic",
            "/cam",
            "--duration",
            "4",
            "--discovery",
            "20",
        ],
        ros_env,
        tmp_path / "rec.log",
    )
    assert rec.wait(60) == 0, (tmp_path / "rec.log").read_text()
    assert player.wait(30) == 0, (tmp_path / "player.log").read_text()
    items = list(read_bag(tmp_path / "out"))
    chunks = [i.msg for i in items if i.topic == "/mic"]
    frames = [i.msg for i in items if i.topic == "/cam"]
    assert [c.sequence for c in chunks] == list(range(25))
    assert all(int(c.samples[0]) == c.sequence for c in chunks)
    assert len(frames) == 3 and all(np.array_equal(image_to_rgb(f), rgb) for f in frames)
