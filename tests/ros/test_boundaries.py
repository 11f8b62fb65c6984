"""The nodes' boundary rule: a misspelled parameter, an unusable file or bag, or a message that
raises anything is a counted failure or a failed start with one line saying why, never a silent
success."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.ros.conftest import start

pytestmark = pytest.mark.ros


def _run_node(args: list[str], ros_env, log) -> tuple[int, str]:
    proc = start(["-m", "perception_ros", *args], ros_env, log)
    try:
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return code, log.read_text()


def test_a_misspelled_lifecycle_node_parameter_fails_configure_naming_the_right_one(ros_env):
    import rclpy
    from perception_ros.text_detector import TextDetectorNode
    from rclpy.lifecycle import TransitionCallbackReturn
    from rclpy.parameter import Parameter

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(ros_env["ROS_DOMAIN_ID"]))
    overrides = [Parameter("detector", value="ppocr"), Parameter("max_side_pxx", value=640)]
    node = TextDetectorNode("td", context=context, parameter_overrides=overrides)
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
        assert node.model is None
        assert "'max_side_pxx' (did you mean 'max_side_px'?)" in node._parameter_error
    finally:
        node.destroy_node()
        context.try_shutdown()


def test_a_misspelled_source_node_parameter_exits_1_naming_the_right_one(ros_env, tmp_path):
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(1600, np.float32), 16000)
    args = ["wav_source", "--ros-args", "-p", f"path:={wav}", "-p", "chunk_mss:=20"]
    code, log = _run_node(args, ros_env, tmp_path / "node.log")
    assert code == 1 and "'chunk_mss' (did you mean 'chunk_ms'?)" in log, log


def test_wav_source_refuses_a_file_with_nan_samples(ros_env, tmp_path):
    samples = np.zeros(1600, np.float32)
    samples[10] = np.nan
    wav = tmp_path / "nan.wav"
    sf.write(wav, samples, 16000, subtype="FLOAT")
    code, log = _run_node(
        ["wav_source", "--ros-args", "-p", f"path:={wav}"], ros_env, tmp_path / "n.log"
    )
    assert code == 1 and "NaN or infinite" in log, log


def test_bag_player_exits_1_when_its_thread_fails_on_a_foreign_exception(ros_env, tmp_path):
    bag = tmp_path / "bag"
    bag.mkdir()
    (bag / "metadata.yaml").write_text("rosbag2_bagfile_information: {version: banana}\n")
    args = ["bag_player", "--ros-args", "-p", f"path:={bag}", "-p", "wait_for_subscribers:=false"]
    code, log = _run_node(args, ros_env, tmp_path / "player.log")
    assert code == 1 and f"playing {bag} failed" in log, log


@pytest.mark.model
def test_speech_node_counts_a_chunk_that_raises_anything(ros_env):
    from perception_msgs.msg import AudioChunk
    from rclpy.lifecycle import TransitionCallbackReturn

    from tests.ros.test_nodes import _speech_node

    context, node, probe = _speech_node(ros_env)
    try:
        ok = TransitionCallbackReturn.SUCCESS
        assert node.trigger_configure() == ok and node.trigger_activate() == ok
        node.on_chunk(AudioChunk(sample_rate_hz=16000, channels=1, samples=[0] * 320))
        node.on_chunk(object())  # no fields at all: AttributeError inside the converter
        counts = {k: v for k, v in node.extra_diagnostics().items() if k.startswith("chunks_")}
        assert node.extra_diagnostics()["asr.providers"] == "CPUExecutionProvider"  # auto, CPU
        assert counts == {
            "chunks_received": 2,
            "chunks_processed": 1,
            "chunks_failed": 1,
            "chunks_dropped": 0,
        }
        assert node.stats.summary().failed == 1
    finally:
        probe.destroy_node()
        node.destroy_node()
        context.try_shutdown()


def test_llm_service_answers_a_foreign_exception_with_its_reason(ros_env):
    import rclpy
    from perception_msgs.srv import CheckText, CorrectTranscript, GenerateText
    from perception_ros.llm_service import LlmServiceNode

    class BrokenModel:
        """Test stand-in (not a model): every call raises what a library might."""

        model_id = "broken"

        def generate(self, *args):
            raise RuntimeError("CUDA out of memory")

        def correct(self, hypotheses):
            raise KeyError("eos")

        def check(self, text, direction):
            raise ValueError("bad tensor")

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(ros_env["ROS_DOMAIN_ID"]))
    node = LlmServiceNode("llm", context=context)
    node.model, node._run = BrokenModel(), lambda job: job()  # no worker: call in place
    try:
        out = node.on_generate(GenerateText.Request(prompt="hi"), GenerateText.Response())
        assert not out.success and out.message == "RuntimeError: CUDA out of memory"
        fixed = node.on_correct(
            CorrectTranscript.Request(hypotheses=["a"]), CorrectTranscript.Response()
        )
        assert not fixed.success and fixed.message == "KeyError: 'eos'"
        checked = node.on_check(CheckText.Request(text="x"), CheckText.Response())
        assert not checked.allowed and checked.message == "check failed: ValueError: bad tensor"
        assert node.stats.summary().failed == 3
    finally:
        node.destroy_node()
        context.try_shutdown()
