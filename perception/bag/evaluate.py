"""Offline evaluation: replay a bag through the pipelines in-process and account for every message.

Owns the replay loop: the chosen image topic goes to the text detector and the audio topic to
the speech pipeline, each message through the converter of its type (:mod:`perception.ros.inputs`);
the ground-truth topic is collected, anything else is counted as skipped. Every message ends up
processed, failed (with the reason) or skipped (with the reason); a bag cut short is reported
with how far the replay got. Which topic is which lives in :mod:`perception.bag.topics`; metrics
and the report live in :mod:`perception.bag.metrics` and :mod:`perception.bag.report`; this
module does not know them.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from perception.bag.io import BagMessage, BagReadStatus, bag_topics, read_bag
from perception.bag.sample import FACE_TOPIC, GT_TOPIC
from perception.bag.topics import TopicPlan, plan_topics
from perception.errors import PerceptionError, one_line
from perception.ros.convert import stamp_ns
from perception.ros.inputs import IMAGE_CONVERTERS, AudioStream
from perception.ros.pipeline import SpeechPipeline
from perception.speech.types import Transcript
from perception.vision.types import TextDetector, TextRegion


class GroundTruthError(PerceptionError):
    """Ground truth (in the bag or a --gt file) is not the JSON mapping the report expects."""


def parse_ground_truth(text: str | bytes, where: str) -> dict:
    """The ground truth as a mapping with optional ``images`` and ``utterances`` lists.

    Raises:
        GroundTruthError: naming ``where`` and what is wrong (bad JSON or the wrong shape).
    """
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise GroundTruthError(f"{where}: ground truth is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise GroundTruthError(
            f"{where}: ground truth must be a JSON object with images and/or utterances, got "
            f"{type(data).__name__}; `perception bag gt-template` writes one to fill in"
        )
    for key in ("images", "utterances"):
        items = data.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise GroundTruthError(f"{where}: ground truth {key!r} must be a list of objects")
    for i, image in enumerate(data.get("images", [])):
        regions = image.get("regions", [])
        if not isinstance(image.get("stamp_ns"), int) or not isinstance(regions, list):
            raise GroundTruthError(
                f"{where}: ground truth images[{i}] needs an integer stamp_ns and a regions list"
            )
        for j, region in enumerate(regions):
            if not (
                isinstance(region, dict)
                and _is_polygon(region.get("polygon_px"))
                and isinstance(region.get("language"), str)
            ):
                raise GroundTruthError(
                    f"{where}: ground truth images[{i}].regions[{j}] needs polygon_px (three or "
                    "more [x, y] points) and a language code"
                )
    for i, utt in enumerate(data.get("utterances", [])):
        times = (utt.get("start_s"), utt.get("end_s"))
        if not (all(_is_number(t) for t in times) and isinstance(utt.get("text"), str)):
            raise GroundTruthError(
                f"{where}: ground truth utterances[{i}] needs start_s and end_s (seconds) and "
                "a text"
            )
    return data


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def _is_polygon(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) >= 3
        and all(
            isinstance(p, list | tuple) and len(p) == 2 and all(_is_number(v) for v in p)
            for p in value
        )
    )


@dataclass(frozen=True)
class EvalOptions:
    """Which topics carry what ("" = the bag's only topic of that kind), and how much of the
    replay to keep for the report."""

    image_topic: str = ""
    audio_topic: str = ""
    gt_topic: str = GT_TOPIC
    keep_frames: int = 12  # frames kept (as arrays) for annotation in the report
    face_topic: str = FACE_TOPIC  # the camera on the speaker (AV speech), used when present

    def plan(self, path: Path) -> TopicPlan:
        """The topics of the bag at ``path`` these options choose (ConfigError if ambiguous)."""
        return plan_topics(
            bag_topics(path),
            self.image_topic,
            self.audio_topic,
            self.gt_topic,
            face_topic=self.face_topic,
        )


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
    plan = options.plan(path)
    result, status = Replay(bag=str(path)), BagReadStatus()
    result.notes.append(describe_plan(plan))
    replayer = _Replayer(pipes, options, plan, result)
    start = time.perf_counter()
    for item in read_bag(path, status):
        replayer.dispatch(item)
    replayer.end()
    result.bag_error = status.error
    result.wall_s = time.perf_counter() - start
    return result


def describe_plan(plan: TopicPlan) -> str:
    """One line naming the topics the replay uses."""
    parts = [
        f"{what} {topic} ({plan.type_of(topic)})"
        for what, topic in (("images", plan.image), ("audio", plan.audio))
        if topic
    ]
    return "topics: " + ("; ".join(parts) or "no image or audio topic in the bag")


class _Replayer:
    """The per-topic handling of one replay (the audio stream keeps its resampler's state)."""

    def __init__(
        self, pipes: Pipelines, options: EvalOptions, plan: TopicPlan, result: Replay
    ) -> None:
        self.pipes, self.options, self.plan, self.result = pipes, options, plan, result
        self.audio = AudioStream(plan.type_of(plan.audio)) if plan.audio else None

    def dispatch(self, item: BagMessage) -> None:
        """Route one message; whatever goes wrong with it is counted as its failure, with a
        one-line reason, and the replay goes on with the next message."""
        account = self.result.accounts.setdefault(item.topic, TopicAccount(item.msgtype))
        account.received += 1
        try:
            self._route(item, account)
        except Exception as exc:  # the per-message guard: one bad message never stops a replay
            account.fail(one_line(exc))

    def _route(self, item: BagMessage, account: TopicAccount) -> None:
        expected = self.plan.type_of(item.topic)
        face = self.plan.face
        used = item.topic in (self.plan.gt, self.plan.image, self.plan.audio, self.plan.audio_info)
        used = used or (bool(face) and item.topic == face)
        if item.msg is None:
            account.fail(item.error)
        elif used and expected and item.msgtype != expected:
            account.fail(
                f"a {item.msgtype} message on {item.topic}, which the bag's index gives as "
                f"{expected}; only {expected} is read there"
            )
        elif item.topic == self.plan.gt:
            self.result.ground_truth = parse_ground_truth(item.msg.data, item.topic)
            account.processed += 1
        elif item.topic == self.plan.image:
            self.frame(item, account)
        elif face and item.topic == face:
            self.face(item, account)
        elif item.topic == self.plan.audio:
            self.chunk(item.msg, account)
        elif item.topic == self.plan.audio_info:
            self.info(item.msg, account)
        else:
            account.skip(self.plan.role(item.topic))

    def frame(self, item: BagMessage, account: TopicAccount) -> None:
        pipes = self.pipes
        if pipes.detector is None:
            account.skip(f"text detection unavailable: {pipes.why_missing.get('vision', '?')}")
            return
        try:
            rgb = IMAGE_CONVERTERS[item.msgtype](item.msg)
            t0 = time.perf_counter()
            regions = pipes.detector.detect(rgb)
            latency_ms = (time.perf_counter() - t0) * 1e3
        except PerceptionError as exc:
            account.fail(str(exc))
            return
        keep = rgb if len(self.result.frames) < self.options.keep_frames else None
        stamp = stamp_ns(item.msg.header)
        self.result.frames.append(FrameResult(stamp, tuple(regions), latency_ms, keep))
        account.processed += 1

    def face(self, item: BagMessage, account: TopicAccount) -> None:
        """A frame of the camera on the speaker: into the speech pipeline's AV frame buffer."""
        speech = self.pipes.speech
        if speech is None or getattr(speech, "av", None) is None:
            account.skip("audio-visual recognition is off (speech.av.enabled)")
            return
        try:
            rgb = IMAGE_CONVERTERS[item.msgtype](item.msg)
            speech.add_frame(stamp_ns(item.msg.header) / 1e9, np.ascontiguousarray(rgb[..., ::-1]))
        except (PerceptionError, ValueError) as exc:
            account.fail(str(exc))
            return
        account.processed += 1

    def chunk(self, msg: Any, account: TopicAccount) -> None:
        if self.pipes.speech is None:
            account.skip(f"speech unavailable: {self.pipes.why_missing.get('speech', '?')}")
            return
        assert self.audio is not None  # the plan has an audio topic
        try:
            samples = self.audio.feed(msg)
            header = getattr(msg, "header", None)
            self.speech(samples, None if header is None else stamp_ns(header) / 1e9)
        except PerceptionError as exc:
            account.fail(str(exc))
            return
        account.processed += 1

    def info(self, msg: Any, account: TopicAccount) -> None:
        assert self.audio is not None  # an AudioInfo topic is chosen only with its audio topic
        try:
            self.audio.set_info(msg)
        except PerceptionError as exc:
            account.fail(str(exc))
            return
        account.processed += 1

    def speech(self, samples: np.ndarray, stamp_s: float | None = None) -> None:
        if samples.size:
            self._timed(self.pipes.speech.feed, samples, stamp_s)

    def end(self) -> None:
        """End of the bag: the resampler's tail, then the utterance in progress."""
        if self.pipes.speech is None:
            return
        if self.audio is not None:
            self.speech(self.audio.flush())
        self._timed(self.pipes.speech.flush)

    def _timed(self, step, *args) -> None:
        """Run a speech step; its transcripts carry the step's wall time as latency."""
        t0 = time.perf_counter()
        transcripts = step(*args)
        latency_ms = (time.perf_counter() - t0) * 1e3
        self.result.transcripts += [TranscriptResult(t, latency_ms) for t in transcripts]
