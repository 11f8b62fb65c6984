"""The per-message pipelines shared by the live nodes and the bag evaluation.

Owns the one place where a model is chosen for each stream: speech (VAD segmenter + the
recogniser of ``perception.speech.api``) and scene text (``perception.vision.api.load_detector``).
Swapping a model is one line here. It knows nothing about ROS messages or bags.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from perception.models.store import ModelStore
from perception.speech.api import SpeechOptions, SpeechRecognizer
from perception.speech.api import load_recognizer as load_speech_recognizer
from perception.speech.types import Transcript, Utterance
from perception.speech.vad import StreamSegmenter
from perception.vision.api import VisionOptions, load_detector
from perception.vision.types import TextDetector


def speech_options_class() -> type:
    """The speech capability's options dataclass (node parameters mirror its fields)."""
    return SpeechOptions


def vision_options_class() -> type:
    """The vision capability's options dataclass (node parameters mirror its fields)."""
    return VisionOptions


def load_text_detector(options: VisionOptions, store: ModelStore | None = None) -> TextDetector:
    """The configured text detector: swap the scene-text model here."""
    return load_detector(options, store)


def load_recognizer(options: SpeechOptions, store: ModelStore | None = None) -> SpeechRecognizer:
    """The configured recogniser (``recognize(Utterance) -> Transcript``): swap speech here."""
    return load_speech_recognizer(options, store)


class SpeechPipeline:
    """Streamed samples in, transcripts out: VAD segmentation, then recognition per utterance."""

    def __init__(self, options: SpeechOptions, store: ModelStore | None = None) -> None:
        self.options = options
        self.segmenter = StreamSegmenter(options.vad, store)
        self.recognizer = load_recognizer(options, store)

    def feed(self, samples: np.ndarray) -> list[Transcript]:
        """Add int16 or float32 samples at 16 kHz, shape (N,); transcripts of ended utterances."""
        start = time.perf_counter()
        utterances = self.segmenter.feed(samples)
        vad_ms = (time.perf_counter() - start) * 1e3
        return [self._recognize(u, vad_ms) for u in utterances]

    def flush(self) -> list[Transcript]:
        """End of stream: the utterance in progress, if any."""
        return [self._recognize(u, 0.0) for u in self.segmenter.flush()]

    def _recognize(self, utterance: Utterance, vad_ms: float) -> Transcript:
        t = self.recognizer.recognize(utterance)
        # vad_chunk: VAD time of the chunk that closed the utterance (what delayed this result)
        return dataclasses.replace(t, timings_ms={"vad_chunk": vad_ms, **t.timings_ms})
