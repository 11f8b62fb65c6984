"""Whisper speech recognition on torch through openai-whisper.

Owns loading a checkpoint from the model store (or a user's path) and turning whisper's result
dict into typed segments. It does not read files (see :mod:`perception.audio`) and does not
segment streams.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from perception.audio import SAMPLE_RATE
from perception.config import check
from perception.models.store import ModelStore

Device = Literal["auto", "cpu", "cuda"]


@dataclass(frozen=True)
class WhisperOptions:
    """How Whisper runs. ``model`` is a card name or a path to an openai-whisper ``.pt`` file."""

    model: str = "whisper-tiny.en"
    device: Device = "auto"
    language: str | None = None
    beam_size: int = 5
    temperature: float = 0.0
    fp16: bool = True
    condition_on_previous_text: bool = True

    def __post_init__(self) -> None:
        check(self.beam_size >= 1, f"beam_size must be >= 1, got {self.beam_size}")
        check(
            0.0 <= self.temperature <= 1.0,
            f"temperature must be in [0, 1], got {self.temperature}",
        )


@dataclass(frozen=True)
class Segment:
    """One decoded stretch of speech; times from the start of the audio."""

    start_s: float
    end_s: float
    text: str
    avg_logprob: float
    no_speech_prob: float


@dataclass(frozen=True)
class Transcription:
    """Result for one audio buffer, with the options that produced it."""

    text: str
    language: str
    segments: tuple[Segment, ...]
    audio_duration_s: float
    transcribe_ms: float
    model: str
    device: str
    options: WhisperOptions = field(repr=False)


def resolve_device(device: Device) -> str:
    """``auto`` → ``cuda`` when torch sees a GPU, else ``cpu``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for but torch sees no CUDA GPU; use 'cpu'")
    return device


def load_whisper(path: Path, device: str = "cpu"):
    """Load an openai-whisper checkpoint; alignment heads stored by our converter are applied.

    Equivalent to ``whisper.load_model(path)`` plus the heads (used for word timestamps).
    """
    from whisper.model import ModelDimensions, Whisper

    checkpoint = torch.load(str(path), map_location="cpu", weights_only=True)
    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])
    heads = checkpoint.get("alignment_heads")
    if heads:
        mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
        for layer, head in heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model.to(device)


def model_path(name_or_path: str, store: ModelStore | None = None) -> Path:
    """A card name resolves through the store (checksums verified); a path is used as given."""
    path = Path(name_or_path)
    if path.suffix == ".pt" and path.is_file():
        return path
    return (store or ModelStore()).resolve(name_or_path)


class WhisperTranscriber:
    """Loads Whisper once and transcribes float32 16 kHz buffers."""

    def __init__(self, options: WhisperOptions, store: ModelStore | None = None) -> None:
        self.options = options
        self.device = resolve_device(options.device)
        self.model = load_whisper(model_path(options.model, store), self.device)

    def transcribe(self, audio: np.ndarray) -> Transcription:
        """Transcribe mono float32 samples at 16 kHz, shape (N,)."""
        import whisper

        o = self.options
        start = time.perf_counter()
        result = whisper.transcribe(
            self.model,
            audio,
            language=o.language,
            beam_size=o.beam_size if o.temperature == 0.0 else None,
            temperature=o.temperature,
            fp16=o.fp16 and self.device == "cuda",
            condition_on_previous_text=o.condition_on_previous_text,
            verbose=None,
        )
        elapsed_ms = (time.perf_counter() - start) * 1e3
        segments = tuple(
            Segment(
                float(s["start"]),
                float(s["end"]),
                s["text"].strip(),
                float(s["avg_logprob"]),
                float(s["no_speech_prob"]),
            )
            for s in result["segments"]
        )
        return Transcription(
            text=result["text"].strip(),
            language=result.get("language") or "",
            segments=segments,
            audio_duration_s=len(audio) / SAMPLE_RATE,
            transcribe_ms=elapsed_ms,
            model=o.model,
            device=self.device,
            options=o,
        )
