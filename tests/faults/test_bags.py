"""Bad bags: sqlite3 and MCAP files cut at many offsets or with flipped bytes, messages of the
wrong type, unknown topics, duplicated and out-of-order stamps, bad ground truth. Every message
written must end up processed, failed or skipped with a reason, or lie beyond a reported cut."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perception.bag.evaluate import Pipelines, Replay, replay_bag
from perception.bag.io import BagError, BagWriter, chunk_msg, image_msg, read_bag, string_msg
from perception.vision.types import TextRegion

pytestmark = pytest.mark.faults

IMAGE, AUDIO, GT = "/camera/image_raw", "/audio/chunks", "/perception/ground_truth"
BOX = [[2.0, 2.0], [30.0, 2.0], [30.0, 12.0], [2.0, 12.0]]
TRUTH = {"images": [{"stamp_ns": 1000, "regions": [{"polygon_px": BOX, "language": "en"}]}]}


class BoxDetector:
    """Test stand-in (not a model): one fixed English box per frame."""

    def detect(self, image: np.ndarray) -> list[TextRegion]:
        return [TextRegion(tuple(map(tuple, BOX)), 0.9, "en")]


class CountingSpeech:
    """Test stand-in for the speech pipeline (not a model): takes samples, returns nothing."""

    def __init__(self) -> None:
        self.samples = 0

    def feed(self, samples: np.ndarray, stamp_s: float | None = None) -> list:
        assert np.isfinite(samples).all()
        self.samples += samples.size
        return []

    def flush(self) -> list:
        return []

    def reset(self) -> None:
        self.samples = 0


def _pipes() -> Pipelines:
    return Pipelines(BoxDetector(), CountingSpeech(), "box", ("counting",))


def _write(path: Path, storage: str, frames: int = 12, chunks: int = 60, extra=None) -> int:
    """A bag with ground truth, frames, audio chunks and an unused topic; returns how many
    messages it holds. ``extra(bag)`` may add more (it returns how many it wrote)."""
    rng = np.random.default_rng(1)
    written = 0
    with BagWriter(path, storage) as bag:
        bag.write(GT, string_msg(bag, json.dumps(TRUTH)), 1)
        for i in range(frames):
            rgb = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)  # incompressible
            bag.write(IMAGE, image_msg(bag, rgb, 1000 * (i + 1), "cam"), 1000 * (i + 1))
        for i in range(chunks):
            pcm = rng.integers(-3000, 3000, 320, dtype=np.int16)
            bag.write(AUDIO, chunk_msg(bag, pcm, 200 * (i + 1), "mic", i), 200 * (i + 1))
        bag.write("/robot/status", string_msg(bag, "ok"), 5)
        written = 1 + frames + chunks + 1 + (extra(bag) if extra else 0)
    return written


def _data_file(bag: Path) -> Path:
    return next(p for p in bag.iterdir() if p.suffix in (".db3", ".mcap"))


def _account(replay: Replay, written: int) -> int:
    """Checks every received message is counted once; returns the messages lost (unread
    without a reported cut)."""
    received = 0
    for topic, a in replay.accounts.items():
        assert a.processed + a.failed + a.skipped == a.received, topic
        assert sum(a.reasons.values()) == a.failed + a.skipped, topic
        assert all("\n" not in r for r in a.reasons), topic
        received += a.received
    assert received <= written
    return 0 if received == written or replay.bag_error else written - received


def _replay_or_refusal(bag: Path, written: int, ledger, group: str) -> Replay | None:
    try:
        replay = replay_bag(bag, _pipes())
    except BagError as exc:
        assert "\n" not in str(exc) and str(bag) in str(exc)
        ledger.tried(group, "refused")
        return None
    lost = _account(replay, written)
    assert lost == 0
    ledger.tried(group, "counted", lost)
    return replay


CUTS = [0, 16, 64, 512, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.99, -1]


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
@pytest.mark.parametrize("cut", CUTS)
def test_a_bag_cut_anywhere_is_refused_or_replayed_up_to_the_cut(tmp_path, ledger, storage, cut):
    bag = tmp_path / "bag"
    written = _write(bag, storage)
    data = _data_file(bag)
    size = data.stat().st_size
    keep = size + cut if cut == -1 else int(cut * size) if isinstance(cut, float) else cut
    data.write_bytes(data.read_bytes()[:keep])
    replay = _replay_or_refusal(bag, written, ledger, f"bag ({storage}, truncated)")
    if replay is not None and replay.bag_error:
        assert replay.bag_error.startswith(("bag ended early", "bag index unreadable"))


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_a_missing_storage_file_or_metadata_is_refused(tmp_path, ledger, storage):
    bag = tmp_path / "bag"
    _write(bag, storage)
    _data_file(bag).unlink()
    with pytest.raises(BagError, match="cannot open bag"):
        replay_bag(bag, _pipes())
    (bag / "metadata.yaml").write_text("rosbag2_bagfile_information: [not, a, mapping]\n")
    with pytest.raises(BagError, match="cannot open bag"):
        replay_bag(bag, _pipes())
    ledger.tried(f"bag ({storage}, damaged)", "refused")
    ledger.tried(f"bag ({storage}, damaged)", "refused")


def _foreign_on(topic: str, msgtype: str):
    def write(bag) -> int:
        conn = bag._writer.add_connection(topic, msgtype, typestore=bag.store)
        msg = string_msg(bag, "not a frame") if msgtype.endswith("String") else None
        if msg is None:  # an IMU sample on a sensor topic
            T = bag.store.types
            msg = T["sensor_msgs/msg/Imu"](
                header=image_msg(bag, np.zeros((1, 1, 3), np.uint8), 1, "x").header,
                orientation=T["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0),
                orientation_covariance=np.zeros(9),
                angular_velocity=T["geometry_msgs/msg/Vector3"](x=0.0, y=0.0, z=0.0),
                angular_velocity_covariance=np.zeros(9),
                linear_acceleration=T["geometry_msgs/msg/Vector3"](x=0.0, y=0.0, z=0.0),
                linear_acceleration_covariance=np.zeros(9),
            )
        bag._writer.write(conn, 1500, bag.store.serialize_cdr(msg, msg.__msgtype__))
        return 1

    return write


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
@pytest.mark.parametrize(
    ("topic", "msgtype"),
    [
        (IMAGE, "std_msgs/msg/String"),
        (IMAGE, "sensor_msgs/msg/Imu"),
        (AUDIO, "std_msgs/msg/String"),
        (AUDIO, "sensor_msgs/msg/Imu"),
        (GT, "sensor_msgs/msg/Imu"),
    ],
)
def test_a_message_of_the_wrong_type_fails_alone(tmp_path, ledger, storage, topic, msgtype):
    bag = tmp_path / "bag"
    written = _write(bag, storage, extra=_foreign_on(topic, msgtype))
    replay = replay_bag(bag, _pipes())
    assert _account(replay, written) == 0
    account = replay.accounts[topic]
    assert account.failed == 1 and f"a {msgtype} message on {topic}" in next(iter(account.reasons))
    others = [a for t, a in replay.accounts.items() if t in (IMAGE, AUDIO) and t != topic]
    assert all(a.processed == a.received for a in others)
    ledger.tried("bag message (wrong type)", "counted")


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_unknown_topics_are_skipped_with_a_reason(tmp_path, ledger, storage):
    def unknown(bag) -> int:
        for i in range(3):
            bag.write(f"/unknown/{i}", string_msg(bag, "?"), 10 + i)
        return 3

    bag = tmp_path / "bag"
    written = _write(bag, storage, extra=unknown)
    replay = replay_bag(bag, _pipes())
    assert _account(replay, written) == 0
    for i in range(3):
        account = replay.accounts[f"/unknown/{i}"]
        assert account.skipped == 1 and account.reasons
        ledger.tried("bag topic (unknown)", "counted")


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
@pytest.mark.parametrize("order", ["duplicated", "reversed"])
def test_duplicated_and_out_of_order_stamps_are_all_processed(tmp_path, ledger, storage, order):
    def frames(bag) -> int:
        stamps = [7000, 7000, 7000] if order == "duplicated" else [9000, 8000, 7000]
        for i, stamp in enumerate(stamps):
            rgb = np.full((24, 32, 3), i, np.uint8)
            log_ns = 50_000 + i if order == "duplicated" else 50_000 - 1000 * i
            bag.write(IMAGE, image_msg(bag, rgb, stamp, "cam"), log_ns)
        return 3

    bag = tmp_path / "bag"
    written = _write(bag, storage, extra=frames)
    replay = replay_bag(bag, _pipes())
    assert _account(replay, written) == 0
    assert replay.accounts[IMAGE].processed == replay.accounts[IMAGE].received == 15
    from perception.bag.report import summarize

    summary = summarize(replay, _pipes())
    assert summary["vision"]["frames"] == 15 and summary["vision"]["hmean"]["overall"] == 1.0
    for _ in range(3):
        ledger.tried("bag stamps (duplicated/out of order)", "used")


BAD_TRUTH = {
    "not json": "{images: [",
    "a list": "[1, 2, 3]",
    "a number": "42",
    "images not a list": '{"images": {"stamp_ns": 1}}',
    "stamp as text": '{"images": [{"stamp_ns": "1000", "regions": []}]}',
    "region without polygon": '{"images": [{"stamp_ns": 1000, "regions": [{"language": "en"}]}]}',
    "two-point polygon": '{"images": [{"stamp_ns": 1, "regions": [{"polygon_px": [[0, 0], [1, 1]],'
    ' "language": "en"}]}]}',
    "NaN in polygon": '{"images": [{"stamp_ns": 1, "regions": [{"polygon_px": [[0, 0], [1, NaN],'
    ' [2, 2]], "language": "en"}]}]}',
    "utterance without text": '{"utterances": [{"start_s": 0, "end_s": 1}]}',
    "utterance times as text": '{"utterances": [{"start_s": "0", "end_s": "1", "text": "go"}]}',
    "not utf-8": b"\xff\xfe{\x00}\x00",
}


@pytest.mark.parametrize("case", list(BAD_TRUTH))
def test_bad_ground_truth_is_a_counted_failure_and_the_replay_goes_on(tmp_path, ledger, case):
    def truth(bag) -> int:
        text = BAD_TRUTH[case]
        msg = string_msg(bag, text.decode("latin-1") if isinstance(text, bytes) else text)
        bag.write(GT, msg, 2)
        return 1

    bag = tmp_path / "bag"
    written = _write(bag, "mcap", extra=truth)
    replay = replay_bag(bag, _pipes())
    assert _account(replay, written) == 0
    gt = replay.accounts[GT]
    assert (gt.received, gt.processed, gt.failed) == (2, 1, 1)
    assert "ground truth" in next(iter(gt.reasons))
    from perception.bag.report import summarize

    assert summarize(replay, _pipes())["vision"]["hmean"]["overall"] == 1.0  # the good one
    ledger.tried("ground truth (in the bag)", "counted")


@pytest.mark.parametrize("case", [c for c in BAD_TRUTH if c != "not utf-8"] + ["missing"])
def test_a_bad_gt_file_is_refused_before_any_model_loads(tmp_path, ledger, case, capsys):
    from perception.cli import main

    bag = tmp_path / "bag"
    _write(bag, "sqlite3", frames=1, chunks=1)
    gt = tmp_path / "gt.json"
    if case != "missing":
        gt.write_text(BAD_TRUTH[case])
    args = ["eval", str(bag), "--gt", str(gt), "--out", str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(gt) in err
    ledger.tried("ground truth (--gt file)", "refused")


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_eval_on_a_cut_bag_exits_1_and_reports_the_cut(tmp_path, ledger, storage, capsys):
    from perception.cli import main

    bag = tmp_path / "bag"
    _write(bag, storage)
    data = _data_file(bag)
    data.write_bytes(data.read_bytes()[: data.stat().st_size * 2 // 3])
    code = main(["eval", str(bag), "--skip", "speech", "--skip", "vision", "--out", str(tmp_path)])
    report = json.loads((tmp_path / "report.json").read_text()) if code != 2 else None
    assert code in (1, 2)
    if code == 1:
        assert report["bag_error"]
    ledger.tried(f"eval command (cut {storage} bag)", "counted" if code == 1 else "refused")


FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@FAST
@given(
    storage=st.sampled_from(["sqlite3", "mcap"]),
    keep=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=4),
)
def test_the_bag_reader_yields_messages_or_refuses_the_bag(tmp_path_factory, storage, keep, flips):
    bag = tmp_path_factory.mktemp("bag") / "bag"
    written = _write(bag, storage, frames=4, chunks=8)
    data_file = _data_file(bag)
    data = bytearray(data_file.read_bytes()[: int(keep * data_file.stat().st_size)])
    for where, mask in flips:
        if data:
            data[int(where * (len(data) - 1))] ^= mask
    data_file.write_bytes(bytes(data))
    try:
        messages = list(read_bag(bag))
    except BagError as exc:
        assert "\n" not in str(exc)
        return
    assert len(messages) <= written
    for m in messages:
        assert (m.msg is None) == bool(m.error)
    replay = replay_bag(bag, _pipes())
    for a in replay.accounts.values():
        assert a.processed + a.failed + a.skipped == a.received
