"""Offline evaluation: replay a bag through the pipelines in-process and account for every message.

Owns the replay loop: images go to the text detector, audio chunks to the speech pipeline, the
ground-truth topic is collected, anything else is counted as skipped. Every message ends up
processed, failed (with the reason) or skipped (with the reason); a bag cut short is reported
with how far the replay got. Metrics and the report live in :mod:`perception.bag.metrics` and
:mod:`perception.bag.report`; this module does not know them.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from perception.bag.io import BagReadStatus, read_bag
from perception.bag.sample import AUDIO_TOPIC, GT_TOPIC, IMAGE_TOPIC
from perception.errors import PerceptionError
from perception.ros.convert import chunk_to_samples, image_to_rgb, stamp_ns
from perception.ros.pipeline import SpeechPipeline
from perception.speech.types import Transcript
from perception.vision.types import TextDetector, TextRegion


@dataclass(frozen=True)
class EvalOptions:
    """Which topics carry what, and how much of the replay to keep for the report."""

    image_topic: str = IMAGE_TOPIC
    audio_topic: str = AUDIO_TOPIC
    gt_topic: str = GT_TOPIC
    keep_frames: int = 12  # frames kept (as arrays) for annotation in the report


@dataclass
class TopicAccount:
    """Fate of every message on one topic."""

    msgtype: str
    received: int = 0
    processed: int = 0
    failed: int = 0
    skipped: int = 0
    reasons: Counter = field(default_factory=Counter)

    def fail(self, reason: str) -> None:
        self.failed += 1
        self.reasons[reason] += 1

    def skip(self, reason: str) -> None:
        self.skipped += 1
        self.reasons[reason] += 1


@dataclass(frozen=True)
class FrameResult:
    stamp_ns: int
    regions: tuple[TextRegion, ...]
    latency_ms: float
    rgb: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TranscriptResult:
    transcript: Transcript
    latency_ms: float  # from the chunk that ended the utterance to the transcript


@dataclass
class Replay:
    """Everything the replay saw and produced."""

    bag: str
    accounts: dict[str, TopicAccount] = field(default_factory=dict)
    frames: list[FrameResult] = field(default_factory=list)
    transcripts: list[TranscriptResult] = field(default_factory=list)
    ground_truth: dict | None = None
    bag_error: str = ""
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0


@dataclass
class Pipelines:
    """The models to replay through; a missing one is None and ``why_missing`` says why."""

    detector: TextDetector | None
    speech: SpeechPipeline | None
    detector_id: str = ""
    speech_ids: tuple[str, ...] = ()
    why_missing: dict[str, str] = field(default_factory=dict)


def replay_bag(path: Path, pipes: Pipelines, options: EvalOptions = EvalOptions()) -> Replay:
    """Run every message of the bag at ``path`` through ``pipes`` (as fast as the models go)."""
    result, status = Replay(bag=str(path)), BagReadStatus()
    start = time.perf_counter()
    for item in read_bag(path, status):
        account = result.accounts.setdefault(item.topic, TopicAccount(item.msgtype))
        account.received += 1
        if item.msg is None:
            account.fail(item.error)
            continue
        _dispatch(item.topic, item.msg, account, pipes, options, result)
    if pipes.speech is not None:
        _speech_flush(pipes.speech, result)
    result.bag_error = status.error
    result.wall_s = time.perf_counter() - start
    return result


def _dispatch(
    topic: str,
    msg: Any,
    account: TopicAccount,
    pipes: Pipelines,
    options: EvalOptions,
    result: Replay,
) -> None:
    if topic == options.gt_topic:
        result.ground_truth = json.loads(msg.data)
        account.processed += 1
    elif topic == options.image_topic:
        _frame(msg, account, pipes, options, result)
    elif topic == options.audio_topic:
        _chunk(msg, account, pipes, result)
    else:
        account.skip("no pipeline for this topic")


def _frame(
    msg: Any, account: TopicAccount, pipes: Pipelines, options: EvalOptions, result: Replay
) -> None:
    if pipes.detector is None:
        account.skip(f"text detection unavailable: {pipes.why_missing.get('vision', '?')}")
        return
    try:
        rgb = image_to_rgb(msg)
        t0 = time.perf_counter()
        regions = pipes.detector.detect(rgb)
        latency_ms = (time.perf_counter() - t0) * 1e3
    except PerceptionError as exc:
        account.fail(str(exc))
        return
    keep = rgb if len(result.frames) < options.keep_frames else None
    stamp = stamp_ns(msg.header)
    result.frames.append(FrameResult(stamp, tuple(regions), latency_ms, keep))
    account.processed += 1


def _chunk(msg: Any, account: TopicAccount, pipes: Pipelines, result: Replay) -> None:
    if pipes.speech is None:
        account.skip(f"speech unavailable: {pipes.why_missing.get('speech', '?')}")
        return
    try:
        samples = chunk_to_samples(msg)
        t0 = time.perf_counter()
        transcripts = pipes.speech.feed(samples)
        latency_ms = (time.perf_counter() - t0) * 1e3
    except PerceptionError as exc:
        account.fail(str(exc))
        return
    result.transcripts += [TranscriptResult(t, latency_ms) for t in transcripts]
    account.processed += 1


def _speech_flush(speech: SpeechPipeline, result: Replay) -> None:
    t0 = time.perf_counter()
    transcripts = speech.flush()
    latency_ms = (time.perf_counter() - t0) * 1e3
    result.transcripts += [TranscriptResult(t, latency_ms) for t in transcripts]
