"""The speech capability's entry point: utterance in, transcript out, by any fusion method.

Owns assembling the acoustic model, the LLM and the fusion method from :class:`SpeechOptions`,
and timing each stage. Streams are cut into utterances by :mod:`perception.speech.vad` first,
so Whisper never sees silence.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from perception.config import check
from perception.models.store import ModelStore
from perception.speech.acoustic import AcousticModel, Features, ScoredTokens
from perception.speech.fusion import uadf_weight
from perception.speech.ger import Corrector, LlmOptions, PromptCache
from perception.speech.types import Fusion, Hypothesis, Transcript, Utterance
from perception.speech.uadf import FusedDecoder, Temperatures, static_weight
from perception.speech.vad import StreamSegmenter, VadOptions
from perception.speech.whisper_backend import (
    WhisperOptions,
    load_whisper,
    model_path,
    resolve_device,
)


@dataclass(frozen=True)
class SpeechOptions:
    """Everything the recogniser needs. Temperatures and the static weight default to the values
    fitted on our calibration / dev splits (``perception asr-eval`` refits and prints them)."""

    asr: WhisperOptions = field(default_factory=WhisperOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    llm: LlmOptions = field(default_factory=LlmOptions)
    fusion: Fusion = "none"
    encoder_window_s: float = 10.0
    max_tokens: int = 96
    asr_temperature: float = 1.0
    llm_temperature: float = 1.0
    static_weight: float = 1.0
    no_speech_threshold: float = 0.6

    def __post_init__(self) -> None:
        for name in ("asr_temperature", "llm_temperature"):
            value = getattr(self, name)
            check(0.1 <= value <= 10.0, f"{name} must be in [0.1, 10], got {value}")
        check(self.static_weight >= 0.0, f"static_weight must be >= 0, got {self.static_weight}")
        check(
            1.0 <= self.encoder_window_s <= 30.0,
            f"encoder_window_s must be in [1, 30] (30 = Whisper's full window), "
            f"got {self.encoder_window_s}",
        )


@dataclass(frozen=True)
class Decoded:
    """What the acoustic model says about one utterance, shared by every fusion method."""

    features: Features
    nbest: tuple[ScoredTokens, ...]
    no_speech_prob: float
    timings_ms: dict[str, float]


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1e3, 2)


class SpeechRecognizer:
    """Whisper N-best, optionally corrected by an LLM (GER) or fused with it (static, UADF)."""

    def __init__(self, options: SpeechOptions, store: ModelStore | None = None) -> None:
        self.options = options
        store = store or ModelStore()
        device = resolve_device(options.asr.device)
        whisper_model = load_whisper(model_path(options.asr.model, store), device)
        self.acoustic = AcousticModel(
            whisper_model,
            options.asr.language,
            options.encoder_window_s,
            fp16=options.asr.fp16 and device == "cuda",
        )
        self.model_ids: tuple[str, ...] = (options.asr.model,)
        self.corrector: Corrector | None = None
        self.fused: FusedDecoder | None = None
        if options.fusion != "none":
            self.load_llm(store)

    def load_llm(self, store: ModelStore | None = None) -> None:
        """Load the LLM (done at start when the configured fusion needs it)."""
        from perception.llm.causal_lm import load_causal_lm

        if self.corrector is not None:
            return
        o = self.options
        lm = load_causal_lm(o.llm.model, store, resolve_device(o.asr.device))
        prompt_cache = PromptCache(lm, o.llm)
        self.corrector = Corrector(lm, o.llm, prompt_cache)
        temps = Temperatures(asr=o.asr_temperature, llm=o.llm_temperature)
        self.fused = FusedDecoder(lm, self.acoustic, o.llm, temps, prompt_cache)
        self.model_ids = (o.asr.model, o.llm.model)

    def update(self, **changes) -> None:
        """Change calibration or fusion fields (``asr_temperature``, ``llm_temperature``,
        ``static_weight``) without reloading models; the fused decoder follows the options."""
        self.options = dataclasses.replace(self.options, **changes)
        if self.fused is not None:
            o = self.options
            self.fused.t = Temperatures(asr=o.asr_temperature, llm=o.llm_temperature)

    def decode(self, audio: np.ndarray) -> Decoded:
        """Features, N-best and no-speech probability of one utterance (16 kHz float32)."""
        t0 = time.perf_counter()
        features = self.acoustic.encode(audio)
        t1 = time.perf_counter()
        nbest = self.acoustic.beam_search(
            features, self.options.asr.beam_size, self.options.max_tokens
        )
        no_speech = self.acoustic.no_speech_prob(features)
        return Decoded(
            features,
            tuple(nbest),
            no_speech,
            {"encode": round((t1 - t0) * 1e3, 2), "beam_search": _ms(t1)},
        )

    def fuse(self, decoded: Decoded, fusion: Fusion) -> str:
        """The final text by one method, from a shared :class:`Decoded`."""
        texts = [h.text for h in decoded.nbest]
        if not texts:
            return ""
        if fusion == "none":
            return texts[0]
        if self.corrector is None or self.fused is None:
            raise RuntimeError(
                f"fusion {fusion!r} needs the LLM; build the recogniser with a "
                "fusion method other than 'none' or call load_llm()"
            )
        if fusion == "ger":
            return self.corrector.correct(texts) or texts[0]
        weight = uadf_weight if fusion == "uadf" else static_weight(self.options.static_weight)
        return self.fused.decode(decoded.features, texts, weight) or texts[0]

    def recognize(self, utterance: Utterance, fusion: Fusion | None = None) -> Transcript:
        """Transcript of one utterance by ``fusion`` (default: the configured method)."""
        fusion = fusion or self.options.fusion
        decoded = self.decode(utterance.audio)
        t0 = time.perf_counter()
        silent = self._is_silence(decoded)
        text = "" if silent else self.fuse(decoded, fusion)
        timings = dict(decoded.timings_ms, fusion=_ms(t0))
        return Transcript(
            text=text,
            nbest=tuple(
                Hypothesis(h.text, h.avg_logprob, h.token_logprobs) for h in decoded.nbest
            ),
            fusion=fusion,
            language=decoded.features.language,
            start_s=utterance.start_s,
            end_s=utterance.end_s,
            no_speech_prob=decoded.no_speech_prob,
            timings_ms=timings,
            model_ids=self.model_ids,
        )

    def _is_silence(self, decoded: Decoded) -> bool:
        """Whisper's own rule: high no-speech probability and a low-confidence best hypothesis."""
        best = decoded.nbest[0].avg_logprob if decoded.nbest else -10.0
        return decoded.no_speech_prob > self.options.no_speech_threshold and best < -1.0


def load_recognizer(options: SpeechOptions, store: ModelStore | None = None) -> SpeechRecognizer:
    return SpeechRecognizer(options, store)


def transcribe_audio(
    recognizer: SpeechRecognizer, audio: np.ndarray, store: ModelStore | None = None
) -> list[Transcript]:
    """VAD-segment a whole buffer and recognise each utterance (none for pure silence)."""
    segmenter = StreamSegmenter(recognizer.options.vad, store)
    utterances = segmenter.feed(audio) + segmenter.flush()
    return [recognizer.recognize(u) for u in utterances]
