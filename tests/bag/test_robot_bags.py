"""Bags recorded the way robot stacks record them, replayed with every message accounted for.

Three flavours (perception.bag.robot_sample): CompressedImage JPEG + mgonzs13's AudioStamped in
MCAP with an IMU distractor; Image bgr8 + ros-drivers' AudioDataStamped (48 kHz stereo) and
AudioInfo in sqlite3; a ROS 1 bag with PNG CompressedImage + ros-drivers' audio. The detector
and speech pipeline are test stand-ins that record what they were given: the checks are on the
decoded frames and samples and on the metrics plumbing (ground truth matched by stamp), not on
any model.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from perception.audio import resample
from perception.bag.evaluate import EvalOptions, Pipelines, replay_bag
from perception.bag.io import BagWriter, image_msg
from perception.bag.report import summarize
from perception.bag.robot_sample import STYLES, write_robot_bag
from perception.bag.sample import START_NS
from perception.errors import ConfigError
from perception.speech.types import Transcript
from perception.vision.types import TextRegion

BOX = ((8.0, 8.0), (40.0, 8.0), (40.0, 24.0), (8.0, 24.0))
STAMPS = (START_NS + 300_000_000, START_NS + 700_000_000)
_T = np.arange(16000) / 16000
PCM = (np.sin(2 * np.pi * 300 * _T) * 8000 * np.minimum(_T * 4, 1)).astype(np.int16)  # 1 s


class RecordingDetector:
    """Test stand-in (not a model): records each frame, returns one fixed English box."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []

    def detect(self, image: np.ndarray) -> list[TextRegion]:
        self.frames.append(image)
        return [TextRegion(BOX, 0.9, "en")]


class RecordingSpeech:
    """Test stand-in for SpeechPipeline: records the samples; at the end, one transcript with
    ``text`` over the whole stream."""

    def __init__(self, text: str) -> None:
        self.text, self.fed = text, []

    def feed(self, samples: np.ndarray, stamp_s: float | None = None) -> list[Transcript]:
        self.fed.append(np.asarray(samples, np.float32))
        return []

    def flush(self) -> list[Transcript]:
        end_s = sum(len(x) for x in self.fed) / 16000
        return [Transcript(self.text, (), "none", "en", 0.0, end_s, 0.0, {}, ())]


def _frames() -> tuple[tuple[int, np.ndarray], ...]:
    rng = np.random.default_rng(4)
    base = rng.integers(0, 255, (3, 4, 3), dtype=np.uint8)
    rgb = np.kron(base, np.ones((16, 16, 1), np.uint8))  # (48, 64, 3) in flat 16x16 blocks
    return tuple((stamp, rgb) for stamp in STAMPS)


def _truth() -> dict:
    region = {"polygon_px": BOX, "language": "en", "script": "", "text": "", "dont_care": False}
    return {
        "images": [{"stamp_ns": s, "regions": [region]} for s in STAMPS],
        "utterances": [{"start_s": 0.1, "end_s": 0.9, "text": "go left", "voice": "v"}],
    }


@pytest.mark.parametrize("style", sorted(STYLES))
def test_robot_bag_replays_with_every_message_processed(tmp_path, style):
    spec = STYLES[style]
    path = tmp_path / ("robot.bag" if style == "ros1" else "robot")
    write_robot_bag(path, spec, PCM, _frames())
    detector, speech = RecordingDetector(), RecordingSpeech("go left")
    pipes = Pipelines(detector, speech, detector_id="recording-box")
    replay = replay_bag(path, pipes, EvalOptions())
    accounts = replay.accounts
    image, audio = accounts[spec.image_topic], accounts[spec.audio_topic]
    assert (image.received, image.processed, image.failed) == (2, 2, 0), image.reasons
    assert audio.received == audio.processed > 10 and audio.failed == 0, audio.reasons
    if spec.info_topic:
        assert accounts[spec.info_topic].processed == 1
    if spec.distractor_topic:
        distractor = accounts[spec.distractor_topic]
        assert distractor.skipped == distractor.received == 50
        assert dict(distractor.reasons) == {"no pipeline for this topic": 50}
    heard = np.concatenate(speech.fed)
    expected = PCM / 32768
    if spec.rate_hz != 16000:  # written at 48 kHz: the round trip through two resamplers
        expected = resample(resample(expected.astype(np.float32), 16000, 48000), 48000, 16000)
    assert heard.shape == PCM.shape
    np.testing.assert_allclose(heard, expected, atol=2e-4)
    rgb = _frames()[0][1].astype(int)
    for got in detector.frames:  # JPEG is lossy, but not by a channel swap
        assert np.abs(got - rgb).mean() < 4 < np.abs(got - rgb[:, :, ::-1]).mean()
    assert [f.stamp_ns for f in replay.frames] == list(STAMPS)
    replay.ground_truth = json.loads(json.dumps(_truth()))  # as `--gt FILE` loads it
    summary = summarize(replay, pipes)
    assert summary["vision"]["hmean"]["overall"] == 1.0  # every stamp matched its ground truth
    assert summary["speech"]["wer"]["overall"] == 0.0


def test_several_image_topics_need_a_choice(tmp_path):
    with BagWriter(tmp_path / "b", "mcap") as bag:
        for topic in ("/cam/left", "/cam/right"):
            bag.write(topic, image_msg(bag, _frames()[0][1], STAMPS[0], "cam"), STAMPS[0])
    pipes = Pipelines(RecordingDetector(), None, why_missing={"speech": "not under test"})
    with pytest.raises(ConfigError, match="2 image topics: /cam/left .*--image-topic"):
        replay_bag(tmp_path / "b", pipes)
    replay = replay_bag(tmp_path / "b", pipes, EvalOptions(image_topic="/cam/right"))
    assert replay.accounts["/cam/right"].processed == 1
    assert "--image-topic" in next(iter(replay.accounts["/cam/left"].reasons))
