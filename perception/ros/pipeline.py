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
    """Streamed samples in, transcripts out: VAD segmentation, then recognition per utterance.

    The bag replay calls :meth:`feed` and :meth:`flush`; the live node runs the same two steps
    apart (:meth:`cut` and :meth:`end` in its subscription, :meth:`recognize` in its worker).
    """

    def __init__(self, options: SpeechOptions, store: ModelStore | None = None) -> None:
        self.options = options
        self.segmenter = StreamSegmenter(options.vad, store)
        self.recognizer = load_recognizer(options, store)
        self.av = None
        if options.av.enabled:  # lips + audio beside the recogniser (perception.avsr)
            from perception.avsr.api import load_av_stream

            self.av = load_av_stream(options.av, self.recognizer.acoustic, store)
        self._vad_ms = 0.0

    def reset(self) -> None:
        """A new stream (the next bag): the VAD forgets the last one and times restart at 0."""
        self.segmenter.reset()
        if self.av is not None:
            self.av.reset()
        self._vad_ms = 0.0

    def add_frame(self, stamp_s: float, bgr: np.ndarray) -> None:
        """A camera frame for the AV recogniser (ignored unless ``av.enabled``)."""
        if self.av is not None:
            self.av.on_frame(stamp_s, bgr)

    def cut(self, samples: np.ndarray, stamp_s: float | None = None) -> list[Utterance]:
        """Add int16 or float32 samples at 16 kHz, shape (N,); the utterances they ended.
        ``stamp_s``: the chunk's header stamp (pairs the audio with camera frames)."""
        start = time.perf_counter()
        if self.av is not None:
            self.av.on_audio(len(samples), stamp_s)
        utterances = self.segmenter.feed(samples)
        self._vad_ms = (time.perf_counter() - start) * 1e3
        return utterances

    def end(self) -> list[Utterance]:
        """End of stream (or of a pause in it): the utterance in progress, if any."""
        self._vad_ms = 0.0
        return self.segmenter.flush()

    @property
    def in_speech(self) -> bool:
        """True while the segmenter holds the start of an unfinished utterance."""
        return self.segmenter.in_speech

    def recognize(self, utterance: Utterance, vad_ms: float | None = None) -> Transcript:
        """The transcript of one utterance; ``vad_chunk`` times the chunk that closed it."""
        t = self.recognizer.recognize(utterance)
        if self.av is not None:
            t = self.av.annotate(t, utterance)
        vad = self._vad_ms if vad_ms is None else vad_ms
        return dataclasses.replace(t, timings_ms={"vad_chunk": vad, **t.timings_ms})

    def feed(self, samples: np.ndarray, stamp_s: float | None = None) -> list[Transcript]:
        """:meth:`cut`, then :meth:`recognize` each ended utterance."""
        return [self.recognize(u) for u in self.cut(samples, stamp_s)]

    def flush(self) -> list[Transcript]:
        """:meth:`end`, then :meth:`recognize` the utterance in progress."""
        return [self.recognize(u) for u in self.end()]
