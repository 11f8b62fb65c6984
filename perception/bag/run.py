"""``perception eval`` / ``perception demo`` as one function: load pipelines, replay, report.

Owns building the pipelines from a YAML file (``speech:`` and ``vision:`` sections, fields of the
speech and vision option dataclasses) and saying why a pipeline is missing. It does not parse
command lines.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from perception.bag.evaluate import (
    EvalOptions,
    GroundTruthError,
    Pipelines,
    Replay,
    parse_ground_truth,
    replay_bag,
)
from perception.bag.report import summarize, write_report
from perception.config import from_dict, read_yaml
from perception.errors import ConfigError, PerceptionError
from perception.models.store import ModelStore
from perception.ros import pipeline
from perception.speech.api import SpeechOptions


@dataclass(frozen=True)
class EvalRun:
    summary: dict
    page: Path


def read_ground_truth(path: Path) -> dict:
    """A ``--gt`` file (GroundTruthError when it is missing or not ground truth)."""
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise GroundTruthError(f"cannot read the ground-truth file {path}: {exc}") from None
    return parse_ground_truth(text, str(path))


def _sections(config: Path | None) -> dict:
    if config is None:
        return {}
    data = read_yaml(config) or {}
    if not isinstance(data, dict) or set(data) - {"speech", "vision"}:
        raise ConfigError(
            f"{config}: expected a mapping with sections speech and/or vision, "
            f"got {list(data) if isinstance(data, dict) else data!r}"
        )
    return data


def speech_options(config: Path | None) -> SpeechOptions:
    """The speech options of the YAML file's ``speech:`` section (defaults without a file)."""
    return from_dict(pipeline.speech_options_class(), _sections(config).get("speech"), "speech")


def load_pipelines(
    config: Path | None,
    store: ModelStore | None = None,
    skip: tuple[str, ...] = (),
    fallback_detector: str | None = None,
    av: bool = False,
) -> Pipelines:
    """Speech and vision pipelines; one that cannot load is None with the reason recorded.

    Args:
        av: turn on the speech pipeline's audio-visual recogniser (a face topic is replayed).
        fallback_detector: a ``VisionOptions.detector`` to try when the configured one cannot
            load (the report names both the failure and the fallback).
    """
    sections, pipes = _sections(config), Pipelines(None, None)
    if "speech" in skip:
        pipes.why_missing["speech"] = "skipped on request"
    else:
        options = speech_options(config)
        if av and not options.av.enabled:
            options = dataclasses.replace(
                options, av=dataclasses.replace(options.av, enabled=True)
            )
        pipes.speech = pipeline.SpeechPipeline(options, store)
        pipes.speech_ids = (options.vad.model, options.asr.model, f"fusion={options.fusion}")
        if options.av.enabled:
            pipes.speech_ids += (f"av={options.av.fusion} gate={options.av.gate}",)
    if "vision" in skip:
        pipes.why_missing["vision"] = "skipped on request"
        return pipes
    vision = sections.get("vision") or {}
    _load_detector(pipes, vision, store)
    if (
        pipes.detector is None
        and fallback_detector
        and vision.get("detector") != fallback_detector
    ):
        first = pipes.why_missing.pop("vision")
        _load_detector(pipes, {**vision, "detector": fallback_detector}, store)
        pipes.why_missing["vision (configured detector)"] = (
            f"{first}; {fallback_detector} used instead" if pipes.detector is not None else first
        )
    return pipes


def _load_detector(pipes: Pipelines, section: dict, store: ModelStore | None) -> None:
    try:
        options = from_dict(pipeline.vision_options_class(), section, "vision")
        pipes.detector = pipeline.load_text_detector(options, store)
        pipes.detector_id = options.detector
    except (PerceptionError, ImportError) as exc:  # ImportError: a vision backend not installed
        pipes.why_missing["vision"] = f"{type(exc).__name__}: {exc}"


def _live(
    bag: Path, config: Path | None, rate: float, options: EvalOptions
) -> tuple[Pipelines, Replay]:
    from perception.bag.live import flat_sections, replay_live

    speech = speech_options(config)
    vision = from_dict(pipeline.vision_options_class(), _sections(config).get("vision"), "vision")
    pipes = Pipelines(
        None,
        None,
        detector_id=f"{vision.detector} (live node)",
        speech_ids=(speech.vad.model, speech.asr.model, f"fusion={speech.fusion}", "live node"),
    )
    return pipes, replay_live(bag, flat_sections(speech, vision), pipes, rate, options)


def evaluate(
    bag: Path,
    out_dir: Path,
    config: Path | None = None,
    gt: Path | None = None,
    skip: tuple[str, ...] = (),
    store: ModelStore | None = None,
    live_rate: float | None = None,
    fallback_detector: str | None = None,
    options: EvalOptions | None = None,
) -> EvalRun:
    """Replay ``bag`` and write the report into ``out_dir``.

    In-process by default; with ``live_rate`` the bag is played at that speed through the live
    nodes (started as processes on the current ROS domain). ``options`` choose the topics
    (default: the bag's only image and audio topics).
    """
    options = options or EvalOptions()
    plan = options.plan(bag)  # a topic choice to make fails here, before any model loads
    truth = read_ground_truth(gt) if gt is not None else None  # and a bad --gt file
    if live_rate is None:
        pipes = load_pipelines(config, store, skip, fallback_detector, bool(plan.face))
        replay = replay_bag(bag, pipes, options)
    else:
        pipes, replay = _live(bag, config, live_rate, options)
    if truth is not None:
        replay.ground_truth = truth
        replay.notes.append(f"ground truth from {gt} (replaces any in the bag)")
    guard = screen_texts(replay, pipes, store) if "guard" not in skip else None
    summary = summarize(replay, pipes)
    if guard is not None:
        summary["guard"] = guard
    return EvalRun(summary, write_report(out_dir, replay, summary))


def screen_texts(replay: Replay, pipes: Pipelines, store: ModelStore | None) -> dict | None:
    """The guard's verdicts on what was heard and read (:mod:`perception.bag.screening`);
    None, with the reason in ``pipes.why_missing``, when the guard cannot load."""
    from transformers.utils import logging as hf_logging

    from perception.bag.screening import guard_summary, screen_replay
    from perception.llm.guard.screen import Screen

    hf_logging.disable_progress_bar()  # the report's errors stay one line on stderr
    try:
        screen = Screen(store=store)
    except PerceptionError as exc:
        pipes.why_missing["guard"] = f"{exc} (nothing heard or read was screened)"
        return None
    return guard_summary(screen_replay(replay, screen))
