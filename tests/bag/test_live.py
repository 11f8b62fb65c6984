"""``eval --live`` accounting from what was published and what the nodes reported (no nodes
are started here: the collected messages and diagnostics are given)."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np

from perception.bag.evaluate import EvalOptions, Replay
from perception.bag.io import BagWriter, chunk_msg, image_msg, string_msg
from perception.bag.live import _collect


def _bag(path, truth: str) -> None:
    with BagWriter(path, "sqlite3") as bag:
        bag.write("/perception/ground_truth", string_msg(bag, truth), 1)
        for i in range(2):
            frame = image_msg(bag, np.zeros((8, 8, 3), np.uint8), i, "c")
            bag.write("/camera/image_raw", frame, i)
        for i in range(10):
            bag.write("/audio/chunks", chunk_msg(bag, np.zeros(320, np.int16), i, "m", i), i)


def _speech_diag(processed: int, failed: int, dropped: int) -> dict:
    counts = {"chunks_processed": processed, "chunks_failed": failed, "chunks_dropped": dropped}
    return {k: str(v) for k, v in counts.items()}


def test_audio_chunks_are_counted_from_the_speech_node_not_assumed(tmp_path):
    _bag(tmp_path / "bag", json.dumps({"images": [], "utterances": []}))
    topics = EvalOptions().plan(tmp_path / "bag")
    published = Counter({"/camera/image_raw": 2, "/audio/chunks": 10})
    diag = {"/eval_speech": _speech_diag(processed=6, failed=1, dropped=1)}
    result = Replay(bag="b")
    _collect(result, tmp_path / "bag", published, [], [], diag, topics)
    audio = result.accounts["/audio/chunks"]
    assert (audio.received, audio.processed, audio.failed, audio.skipped) == (10, 6, 1, 3)
    assert dict(audio.reasons) == {
        "failed in the speech node (see its log)": 1,
        "arrived while the speech node was not active": 1,
        "lost in transport or never reported": 2,
    }
    frames = result.accounts["/camera/image_raw"]
    assert (frames.received, frames.processed, frames.skipped) == (2, 0, 2)


def test_live_ground_truth_that_is_not_json_is_a_note_not_a_crash(tmp_path):
    _bag(tmp_path / "bag", "{broken")
    topics = EvalOptions().plan(tmp_path / "bag")
    result = Replay(bag="b")
    _collect(result, tmp_path / "bag", Counter(), [], [], {}, topics)
    assert result.ground_truth is None
    assert any("ground truth not used" in n and "not valid JSON" in n for n in result.notes)
