"""The ground-truth template of a robot bag: every image stamp, the VAD's utterances, media."""

from __future__ import annotations

import json

import numpy as np
import pytest

from perception.audio import load_audio
from perception.bag.gt_template import gt_template
from perception.bag.robot_sample import STYLES, write_robot_bag
from perception.bag.sample import START_NS
from perception.speech.vad import VadOptions, segment
from tests.conftest import SAMPLE_WAV


@pytest.mark.model  # Silero VAD from the store
def test_template_lists_stamps_and_the_utterances_the_vad_finds(tmp_path, store):
    audio = load_audio(SAMPLE_WAV)
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    rgb = np.full((32, 48, 3), 200, np.uint8)
    stamps = (START_NS + 500_000_000, START_NS + 2_000_000_000)
    write_robot_bag(tmp_path / "r.bag", STYLES["ros1"], pcm, tuple((s, rgb) for s in stamps))
    result = gt_template(tmp_path / "r.bag", store=store, media=tmp_path / "media")
    doc = json.loads(json.dumps(result.doc))  # as written to the file
    assert not result.failed
    assert [i["stamp_ns"] for i in doc["images"]] == list(stamps)
    assert all(i["regions"] == [] for i in doc["images"])
    direct = segment(pcm.astype(np.float32) / 32768, VadOptions(), store)
    assert len(direct) >= 2  # the clip holds two commands
    assert [(u["start_s"], u["end_s"]) for u in doc["utterances"]] == [
        (round(u.start_s, 3), round(u.end_s, 3)) for u in direct
    ]
    assert {u["text"] for u in doc["utterances"]} == {""}
    media = sorted(p.name for p in (tmp_path / "media").iterdir())
    assert sum(n.startswith("frame_") for n in media) == 2
    assert sum(n.startswith("utterance_") for n in media) == len(direct)
