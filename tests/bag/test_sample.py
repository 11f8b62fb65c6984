"""The sample bag generator: deterministic content, consistent times and ground truth."""

from __future__ import annotations

import hashlib

import numpy as np

from perception.bag.io import read_bag
from perception.bag.sample import (
    AUDIO_TOPIC,
    FACE_TOPIC,
    GT_TOPIC,
    IMAGE_TOPIC,
    SampleSpec,
    SpokenLine,
    default_sample_bag,
    write_sample_bag,
)
from perception.ros.audio import chunk_to_block
from perception.ros.convert import stamp_ns
from perception.ros.images import image_to_rgb

SPEC = SampleSpec(frames=2, lines=(SpokenLine("Go left.", "en-us"),), size_px=(320, 240))


def _digest(path) -> str:
    h = hashlib.sha256()
    for item in read_bag(path):
        h.update(f"{item.topic} {item.log_time_ns}".encode())
        if item.topic in (IMAGE_TOPIC, FACE_TOPIC):
            h.update(image_to_rgb(item.msg).tobytes())
        elif item.topic == AUDIO_TOPIC:
            h.update(chunk_to_block(item.msg).samples.tobytes())
        else:
            h.update(item.msg.data.encode())
    return h.hexdigest()


def test_sample_bag_is_deterministic_and_consistent(tmp_path):
    truth = write_sample_bag(tmp_path / "a", SPEC)
    write_sample_bag(tmp_path / "b", SPEC)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    items = list(read_bag(tmp_path / "a"))
    assert items[0].topic == GT_TOPIC
    times = [i.log_time_ns for i in items]
    assert times == sorted(times)
    chunks = [i.msg for i in items if i.topic == AUDIO_TOPIC]
    assert [c.sequence for c in chunks] == list(range(len(chunks)))
    audio_s = sum(len(c.samples) for c in chunks) / 16000
    (utt,) = truth["utterances"]
    assert 0 < utt["start_s"] < utt["end_s"] <= audio_s
    frames = {stamp_ns(i.msg.header): image_to_rgb(i.msg) for i in items if i.topic == IMAGE_TOPIC}
    annotated = [img["stamp_ns"] for img in truth["images"]]
    assert set(annotated) < set(frames) and sorted(annotated) == annotated
    # the rendered scenes and the instruction sign are annotated; the real photos are not
    assert len(annotated) == SPEC.frames + 1 and len(frames) == len(annotated) + len(SPEC.photos)
    (sign,) = truth["images"][-1]["regions"]
    assert sign["text"] == SPEC.instruction_sign and sign["language"] == "en"
    for img in truth["images"]:
        assert frames[img["stamp_ns"]].shape == (240, 320, 3)
        for region in img["regions"]:
            xy = np.asarray(region["polygon_px"])
            assert xy.shape[1] == 2 and region["language"] in SPEC.languages
    faces = [i for i in items if i.topic == FACE_TOPIC]
    assert len(faces) == int(np.ceil(audio_s * SPEC.face_rate_hz))
    assert image_to_rgb(faces[0].msg).shape == (128, 128, 3)
    mouth = [image_to_rgb(f.msg)[80:110, 30:100].astype(float) for f in faces]
    moving = [np.abs(b - a).mean() for a, b in zip(mouth, mouth[1:], strict=False)]
    t = [(stamp_ns(f.msg.header) - stamp_ns(faces[0].msg.header)) / 1e9 for f in faces][1:]
    during = [m for m, s in zip(moving, t, strict=True) if utt["start_s"] + 0.1 < s < utt["end_s"]]
    before = [m for m, s in zip(moving, t, strict=True) if s < utt["start_s"] - 0.1]
    assert max(during) > max(before)  # the face's mouth moves while the line is spoken


def test_default_sample_bag_is_generated_once(tmp_path):
    path = default_sample_bag(SPEC, home=tmp_path)
    mtime = (path / "metadata.yaml").stat().st_mtime_ns
    assert default_sample_bag(SPEC, home=tmp_path) == path
    assert (path / "metadata.yaml").stat().st_mtime_ns == mtime
    assert not list(tmp_path.glob("samples/.partial-*"))
