"""The speech capability's public types: utterances in, transcripts out.

Shared by the recogniser, the fusion methods, the evaluation and the ROS nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Fusion = Literal["none", "ger", "static", "uadf"]


@dataclass(frozen=True)
class Hypothesis:
    """One N-best entry: text and its length-normalised log-probability under the recogniser."""

    text: str
    avg_logprob: float
    token_logprobs: tuple[float, ...] = ()


@dataclass(frozen=True)
class Utterance:
    """A stretch of speech cut from a stream; times in seconds from the stream's start."""

    audio: np.ndarray = field(repr=False)  # (N,) float32, 16 kHz
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Transcript:
    """The final text for one utterance, with what produced it and how long each stage took."""

    text: str
    nbest: tuple[Hypothesis, ...]
    fusion: Fusion
    language: str
    start_s: float
    end_s: float
    no_speech_prob: float
    timings_ms: dict[str, float]
    model_ids: tuple[str, ...]
    llm_text: str = ""  # what the LLM wrote before the guards ("" for AM-only)
    guard: str = ""  # the guards' verdict on it, e.g. "... rejected" ("" for AM-only)
    # audio-visual (speech.av.enabled and frames covering the utterance; else as below)
    av_text: str = ""  # the AV recogniser's text
    speaker_prob: float = -1.0  # P(the face on camera said it); -1 = no camera frames
    speaker_box: tuple[float, float, float, float] | None = None  # that face, pixels
    language_prob: float = 1.0  # Whisper's probability of ``language``; 1.0 when it was fixed
