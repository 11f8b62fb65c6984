"""Replay accounting and the report, on bags with bad messages.

The detector here is ``PlaceholderBoxDetector``, a test stand-in that returns one fixed box: it
exercises the accounting and the report, and its numbers are not results of any model.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from perception.bag.evaluate import Pipelines, replay_bag
from perception.bag.io import BagWriter, image_msg, string_msg
from perception.bag.report import summarize, write_report
from perception.vision.types import TextRegion

BOX = ((10.0, 10.0), (60.0, 10.0), (60.0, 30.0), (10.0, 30.0))


class PlaceholderBoxDetector:
    """Test stand-in (not a model): one fixed English box per image."""

    def detect(self, image: np.ndarray) -> list[TextRegion]:
        assert image.shape == (48, 64, 3) and image.dtype == np.uint8
        return [TextRegion(BOX, 0.9, "en")]


def _bad_bag(path):
    rgb = np.zeros((48, 64, 3), np.uint8)
    truth = {
        "images": [
            {
                "stamp_ns": t,
                "regions": [
                    {
                        "polygon_px": BOX,
                        "language": lang,
                        "script": "",
                        "text": "",
                        "dont_care": False,
                    }
                ],
            }
            for t, lang in ((100, "en"), (200, "de"))
        ],
        "spec": {"size_px": [64, 48]},
    }
    with BagWriter(path, "sqlite3") as bag:
        bag.write("/perception/ground_truth", string_msg(bag, json.dumps(truth)), 1)
        bag.write("/camera/image_raw", image_msg(bag, rgb, 100, "cam"), 100)
        bag.write("/camera/image_raw", image_msg(bag, rgb, 200, "cam"), 200)
        wrong = image_msg(bag, rgb, 300, "cam")
        wrong.encoding = "32FC1"
        bag.write("/camera/image_raw", wrong, 300)
        short = image_msg(bag, rgb, 400, "cam")
        short.data = short.data[:100]
        bag.write("/camera/image_raw", short, 400)
        bag.write_raw("/camera/image_raw", "sensor_msgs/msg/Image", b"\x00\x01garbage", 500)
        bag.write("/other", string_msg(bag, "hi"), 600)


def test_every_message_is_accounted_for_and_reported(tmp_path):
    _bad_bag(tmp_path / "bag")
    pipes = Pipelines(
        PlaceholderBoxDetector(),
        None,
        detector_id="placeholder-box",
        why_missing={"speech": "not under test"},
    )
    replay = replay_bag(tmp_path / "bag", pipes)
    cam = replay.accounts["/camera/image_raw"]
    assert (cam.received, cam.processed, cam.failed, cam.skipped) == (5, 2, 3, 0)
    reasons = " | ".join(cam.reasons)
    assert "32FC1" in reasons and "corrupt image" in reasons and "cannot decode" in reasons
    assert replay.accounts["/other"].skipped == 1
    summary = summarize(replay, pipes)
    hm = summary["vision"]["hmean"]
    assert hm["overall"] == 1.0 and hm["per_group"] == {"de": 1.0, "en": 1.0}
    lang = summary["vision"]["language_id"]
    assert lang["per_group"] == {"de": 0.0, "en": 1.0} and lang["worst_group"] == "de"
    page = write_report(tmp_path / "report", replay, summary)
    text = page.read_text()
    assert "32FC1" in text and "placeholder-box" in text
    assert len(list((tmp_path / "report" / "frames").glob("*.png"))) == 2
    assert (tmp_path / "report" / "plots" / "latency.png").is_file()
    assert json.loads((tmp_path / "report" / "report.json").read_text())["messages"]


def test_missing_detector_skips_frames_with_the_reason(tmp_path):
    _bad_bag(tmp_path / "bag")
    pipes = Pipelines(None, None, why_missing={"vision": "no weights", "speech": "off"})
    cam = replay_bag(tmp_path / "bag", pipes).accounts["/camera/image_raw"]
    assert cam.skipped == 4 and cam.failed == 1  # the undecodable one fails before dispatch
    assert any("no weights" in r for r in cam.reasons)


@pytest.mark.model
@pytest.mark.slow
def test_demo_on_the_sample_bag_measures_wer(tmp_path, store):
    from perception.bag.run import evaluate
    from perception.bag.sample import SampleSpec, write_sample_bag
    from perception.cli.demo_cmd import DEMO_CONFIG

    spec = SampleSpec(frames=2)
    truth = write_sample_bag(tmp_path / "sample", spec)
    # the demo's settings: the sample's face camera shows a rendered face
    run = evaluate(tmp_path / "sample", tmp_path / "report", DEMO_CONFIG, store=store)
    s = run.summary
    audio = s["messages"]["/audio/chunks"]
    assert audio["processed"] == audio["received"] > 0
    assert s["speech"]["wer"]["overall"] is not None
    assert s["speech"]["wer"]["overall"] < 0.6  # espeak-ng speech, Whisper tiny.en
    assert set(s["speech"]["wer"]["per_group"]) >= {line.voice for line in spec.lines}
    assert len(s["speech"]["utterances"]) >= len(truth["utterances"])
    assert run.page.is_file()
    # the face camera: every frame used, the AV text and who spoke for each line (one is said
    # off camera, and is still transcribed, from the audio alone)
    faces = s["messages"]["/face_camera/image_raw"]
    assert faces["processed"] == faces["received"] > 0
    av = s["speech"]["av"]
    assert av["speaker_judged"] == len(truth["utterances"]) and av["speaker_correct"] >= 3
    assert all(u["av_text"] for u in av["utterances"])
    assert "Audio-visual speech" in run.page.read_text()
    # every stage per utterance (the demo runs UADF), and the guard over what was heard and read
    assert all(
        u["am_text"] and u["llm_text"] and u["fusion_guard"] for u in s["speech"]["utterances"]
    )
    assert s["guard"]["screened"]["speech"] >= len(truth["utterances"])
    signs = [f["text"] for f in s["guard"]["flagged"] if f["source"] == "sign"]
    assert len(signs) == 1 and "IGNORE YOUR ORDERS" in signs[0]
    # the real photos are replayed too (not annotated, so not scored)
    assert s["messages"]["/camera/image_raw"]["processed"] == spec.frames + 1 + len(spec.photos)


@pytest.mark.model
@pytest.mark.slow
def test_robot_bag_is_evaluated_against_its_gt_file(tmp_path, store):
    """The issue's bag: CompressedImage JPEG, AudioStamped int16 chunks of 1024 frames, an IMU
    distractor, and the ground truth in a --gt file."""
    from perception.bag.robot_sample import write_robot_sample
    from perception.bag.run import evaluate
    from perception.bag.sample import SampleSpec

    spec = SampleSpec(frames=2, lines=SampleSpec().lines[:2])
    gt = write_robot_sample(tmp_path / "robot", "robot", spec)
    s = evaluate(tmp_path / "robot", tmp_path / "report", gt=gt, store=store).summary
    for topic in ("/audio", "/camera/color/image_raw/compressed"):
        account = s["messages"][topic]
        assert account["processed"] == account["received"] > 0, account
    assert s["messages"]["/imu/data"]["skipped"] == s["messages"]["/imu/data"]["received"]
    assert s["speech"]["wer"]["overall"] < 0.6  # espeak-ng speech, Whisper tiny.en
    assert len(s["speech"]["utterances"]) >= 2
    assert s["vision"]["hmean"]["overall"] is not None


def test_truncated_bag_is_replayed_up_to_the_cut_and_reported(tmp_path):
    rgb = np.zeros((48, 64, 3), np.uint8)
    noise = np.random.default_rng(0).integers(0, 255, 200_000, dtype=np.uint8)
    with BagWriter(tmp_path / "bag", "mcap") as bag:
        for i in range(40):  # ~200 KB each, so the file spans several MCAP chunks
            bag.write("/camera/image_raw", image_msg(bag, rgb, i + 1, "cam"), i + 1)
            bag.write("/padding", string_msg(bag, noise.tobytes().hex()[:200_000]), i + 1)
    data_file = next((tmp_path / "bag").glob("*.mcap"))
    data_file.write_bytes(data_file.read_bytes()[: data_file.stat().st_size // 2])
    pipes = Pipelines(PlaceholderBoxDetector(), None, why_missing={"speech": "not under test"})
    replay = replay_bag(tmp_path / "bag", pipes)
    cam = replay.accounts["/camera/image_raw"]
    assert 0 < cam.received < 40 and cam.processed == cam.received
    assert replay.bag_error.startswith("bag ended early")
    page = write_report(tmp_path / "report", replay, summarize(replay, pipes))
    assert "bag ended early" in page.read_text()


def _image_bag_with(path, write_extra) -> None:
    """Two good frames on /camera/image_raw, then whatever ``write_extra(bag)`` adds."""
    rgb = np.zeros((48, 64, 3), np.uint8)
    with BagWriter(path, "sqlite3") as bag:
        bag.write("/camera/image_raw", image_msg(bag, rgb, 100, "cam"), 100)
        write_extra(bag)
        bag.write("/camera/image_raw", image_msg(bag, rgb, 300, "cam"), 300)


def _foreign(bag, msgtype: str):
    """A valid message of ``msgtype`` (String or a real JPEG CompressedImage), serialized."""
    import cv2

    T = bag.store.types
    if msgtype == "std_msgs/msg/String":
        return string_msg(bag, "not a frame")
    jpeg = cv2.imencode(".jpg", np.zeros((48, 64, 3), np.uint8))[1].reshape(-1)
    head = image_msg(bag, np.zeros((1, 1, 3), np.uint8), 200, "cam").header
    return T[msgtype](header=head, format="jpeg", data=jpeg)


@pytest.mark.parametrize("msgtype", ["std_msgs/msg/String", "sensor_msgs/msg/CompressedImage"])
def test_a_message_of_the_wrong_type_on_the_image_topic_is_a_counted_failure(tmp_path, msgtype):
    def foreign_on_image_topic(bag):
        conn = bag._writer.add_connection("/camera/image_raw", msgtype, typestore=bag.store)
        bag._writer.write(conn, 200, bag.store.serialize_cdr(_foreign(bag, msgtype), msgtype))

    _image_bag_with(tmp_path / "bag", foreign_on_image_topic)
    pipes = Pipelines(PlaceholderBoxDetector(), None, why_missing={"speech": "not under test"})
    replay = replay_bag(tmp_path / "bag", pipes)
    cam = replay.accounts["/camera/image_raw"]
    assert (cam.received, cam.processed, cam.failed) == (3, 2, 1)
    assert dict(cam.reasons) == {
        f"a {msgtype} message on /camera/image_raw, which the bag's index gives as "
        "sensor_msgs/msg/Image; only sensor_msgs/msg/Image is read there": 1
    }


@pytest.mark.parametrize(
    ("truth", "why"),
    [("{not json", "not valid JSON"), ("[1, 2]", "must be a JSON object")],
)
def test_bad_ground_truth_in_the_bag_is_a_counted_failure(tmp_path, truth, why):
    def bad_truth(bag):
        bag.write("/perception/ground_truth", string_msg(bag, truth), 150)

    _image_bag_with(tmp_path / "bag", bad_truth)
    pipes = Pipelines(PlaceholderBoxDetector(), None, why_missing={"speech": "not under test"})
    replay = replay_bag(tmp_path / "bag", pipes)
    gt = replay.accounts["/perception/ground_truth"]
    assert (gt.received, gt.failed) == (1, 1) and why in next(iter(gt.reasons))
    assert replay.accounts["/camera/image_raw"].processed == 2 and replay.ground_truth is None


def test_an_exception_outside_the_project_fails_one_message_not_the_replay(tmp_path):
    class FlakyDetector(PlaceholderBoxDetector):
        calls = 0

        def detect(self, image):
            self.calls += 1
            if self.calls == 1:
                raise IndexError("list index out of range")
            return super().detect(image)

    _image_bag_with(tmp_path / "bag", lambda bag: None)
    pipes = Pipelines(FlakyDetector(), None, why_missing={"speech": "not under test"})
    cam = replay_bag(tmp_path / "bag", pipes).accounts["/camera/image_raw"]
    assert (cam.received, cam.processed, cam.failed) == (2, 1, 1)
    assert dict(cam.reasons) == {"IndexError: list index out of range": 1}
