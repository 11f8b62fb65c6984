"""``perception bag gt-template``: a ground-truth file to fill in for a bag recorded on a robot.

Owns one pass over the bag's image and audio topics (chosen as ``perception eval`` chooses
them): every image stamp becomes an entry with no regions, and every utterance the VAD finds
(:class:`perception.speech.vad.StreamSegmenter`, on the same 16 kHz stream the evaluation feeds
the recogniser, so the times agree) an entry with empty text. Optionally the frames (PNG) and
utterances (WAV) are written beside it so a person can annotate them. It runs no recogniser or
detector.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from perception.audio import SAMPLE_RATE
from perception.bag.evaluate import EvalOptions
from perception.bag.io import read_bag
from perception.errors import PerceptionError
from perception.models.store import ModelStore
from perception.ros.convert import stamp_ns
from perception.ros.inputs import IMAGE_CONVERTERS, AudioStream
from perception.speech.types import Utterance
from perception.speech.vad import StreamSegmenter, VadOptions

HOW_TO_FILL = (
    "images: for each frame you annotate, list its text regions as {polygon_px: [[x, y], ...] "
    "(pixels, at least 3 points), language: ISO 639-1 code, dont_care: false (true for text "
    "that should count neither way)}; leave regions empty for a frame with no text, delete the "
    "entries of frames you do not annotate (they are still run, not scored). utterances: "
    "write what was said in text, a group name in voice (WER is also reported per voice); "
    "delete entries that are not speech, add missed ones (start_s/end_s: seconds from the "
    "first audio message). Then: perception eval BAG --gt THIS_FILE"
)


@dataclass
class GtTemplate:
    """The template document and what could not be read."""

    doc: dict
    failed: Counter = field(default_factory=Counter)  # "topic: reason" → messages


def gt_template(
    path: Path,
    options: EvalOptions | None = None,
    vad: VadOptions | None = None,
    store: ModelStore | None = None,
    media: Path | None = None,
) -> GtTemplate:
    """The template for the bag at ``path``; frames and utterances go to ``media`` if given."""
    plan = (options or EvalOptions()).plan(path)
    stream = AudioStream(plan.type_of(plan.audio)) if plan.audio else None
    segmenter = StreamSegmenter(vad or VadOptions(), store) if plan.audio else None
    stamps, utterances, failed = [], [], Counter()
    for item in read_bag(path):
        if item.topic not in (plan.image, plan.audio, plan.audio_info):
            continue
        try:
            if item.msg is None:
                raise PerceptionError(item.error)
            if item.topic == plan.image:
                stamps.append(stamp_ns(item.msg.header))
                _save_frame(media, stamps[-1], IMAGE_CONVERTERS[item.msgtype], item.msg)
            elif item.topic == plan.audio_info:
                stream.set_info(item.msg)
            else:
                utterances += segmenter.feed(stream.feed(item.msg))
        except PerceptionError as exc:
            failed[f"{item.topic}: {exc}"] += 1
    if segmenter is not None:
        utterances += segmenter.feed(stream.flush()) + segmenter.flush()
    _save_utterances(media, utterances)
    return GtTemplate(_document(path, plan.image, plan.audio, stamps, utterances), failed)


def _document(path: Path, image: str, audio: str, stamps: list, utterances: list) -> dict:
    return {
        "bag": str(path),
        "how_to_fill": HOW_TO_FILL,
        "image_topic": image,
        "audio_topic": audio,
        "images": [{"stamp_ns": s, "regions": []} for s in stamps],
        "utterances": [
            {
                "start_s": round(u.start_s, 3),
                "end_s": round(u.end_s, 3),
                "text": "",
                "voice": "unknown",
            }
            for u in utterances
        ],
    }


def _save_frame(media: Path | None, stamp: int, to_rgb, msg) -> None:
    if media is None:
        return
    import cv2

    media.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(media / f"frame_{stamp}.png"), cv2.cvtColor(to_rgb(msg), cv2.COLOR_RGB2BGR))


def _save_utterances(media: Path | None, utterances: list[Utterance]) -> None:
    if media is None or not utterances:
        return
    import soundfile as sf

    media.mkdir(parents=True, exist_ok=True)
    for i, u in enumerate(utterances):
        name = f"utterance_{i:03d}_{u.start_s:.2f}-{u.end_s:.2f}s.wav"
        sf.write(str(media / name), np.asarray(u.audio, np.float32), SAMPLE_RATE)
