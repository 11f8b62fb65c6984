"""The speech capability's entry point: utterance in, transcript out, by any fusion method.

Owns assembling the acoustic model, the LLM and the fusion method from :class:`SpeechOptions`,
and timing each stage. Streams are cut into utterances by :mod:`perception.speech.vad` first,
so Whisper never sees silence.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np

from perception.audio import SAMPLE_RATE
from perception.avsr.options import AvOptions
from perception.config import check
from perception.models.store import ModelStore
from perception.speech import calibration
from perception.speech.acoustic import AcousticModel, Features, ScoredTokens
from perception.speech.context import ContextOptions, clean, load_phrases, whisper_prompt
from perception.speech.fusion import uadf_weight
from perception.speech.ger import Corrector, LlmOptions, PromptCache, example_lines
from perception.speech.guards import (
    DEFAULT_ACCEPTANCE_MARGIN,
    GuardOptions,
    acoustic_check,
    echoes_prompt,
)
from perception.speech.types import Fusion, Hypothesis, Transcript, Utterance
from perception.speech.uadf import FusedDecoder, Temperatures, static_weight
from perception.speech.vad import StreamSegmenter, VadOptions
from perception.speech.whisper_backend import (
    WhisperOptions,
    load_runtime,
    load_whisper,
    model_path,
    resolve_device,
)


@dataclass(frozen=True)
class SpeechOptions:
    """Everything the recogniser needs.

    asr_temperature, llm_temperature, static_weight: UADF's calibrated temperatures and the
        static fusion weight; None = the calibration file fitted for this Whisper + LLM pair
        (:mod:`perception.speech.calibration`), else 1.0, 1.0 and 0.5 with a warning.
    guards: what bounds and checks the LLM's text (:mod:`perception.speech.guards`).
    context: phrases the robot expects (:mod:`perception.speech.context`); a running
        recogniser takes new ones by :meth:`SpeechRecognizer.set_context`.
    av: the audio-visual recogniser that runs beside it when ``av.enabled`` and camera frames
        cover the utterance (:class:`perception.ros.pipeline.SpeechPipeline`).
    max_tokens, tokens_per_second: Whisper decodes at most min(max_tokens, ceil(
        tokens_per_second × utterance seconds) + 8) tokens. Speech runs at about 4 tokens a
        second; the cap stops repetition loops on noise early instead of at 96 tokens (0 = no
        per-second cap).
    """

    asr: WhisperOptions = field(default_factory=WhisperOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    llm: LlmOptions = field(default_factory=LlmOptions)
    guards: GuardOptions = field(default_factory=GuardOptions)
    context: ContextOptions = field(default_factory=ContextOptions)
    fusion: Fusion = "none"
    encoder_window_s: float = 10.0
    max_tokens: int = 96
    tokens_per_second: float = 8.0
    asr_temperature: float | None = None
    llm_temperature: float | None = None
    static_weight: float | None = None
    no_speech_threshold: float = 0.6
    av: AvOptions = field(default_factory=AvOptions)  # lips + audio (perception.avsr)

    def __post_init__(self) -> None:
        for name in ("asr_temperature", "llm_temperature"):
            value = getattr(self, name)
            check(
                value is None or 0.1 <= value <= 10.0,
                f"{name} must be in [0.1, 10] or null (calibrated), got {value}",
            )
        check(
            self.static_weight is None or self.static_weight >= 0.0,
            f"static_weight must be >= 0 or null (calibrated), got {self.static_weight}",
        )
        check(
            self.tokens_per_second >= 0,
            f"tokens_per_second must be >= 0 (0 = no cap), got {self.tokens_per_second}",
        )
        check(
            1.0 <= self.encoder_window_s <= 30.0,
            f"encoder_window_s must be in [1, 30] (30 = Whisper's full window), "
            f"got {self.encoder_window_s}",
        )


@dataclass(frozen=True)
class Calibrated:
    """The fusion values in use and where they came from (options, a file, or defaults)."""

    asr_temperature: float = 1.0
    llm_temperature: float = 1.0
    static_weight: float = 0.5
    acceptance_margin: float = DEFAULT_ACCEPTANCE_MARGIN
    source: str = "defaults"


@dataclass(frozen=True)
class Decoded:
    """What the acoustic model says about one utterance, shared by every fusion method."""

    features: Features
    nbest: tuple[ScoredTokens, ...]
    no_speech_prob: float
    timings_ms: dict[str, float]


@dataclass(frozen=True)
class Fused:
    """One method's final text, the LLM's own text before the guards, and their verdict."""

    text: str
    llm_text: str = ""
    guard: str = ""


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1e3, 2)


class SpeechRecognizer:
    """Whisper N-best, optionally corrected by an LLM (GER) or fused with it (static, UADF);
    the LLM's text passes the guards of :mod:`perception.speech.guards` or the best hypothesis
    stands."""

    def __init__(self, options: SpeechOptions, store: ModelStore | None = None) -> None:
        self.options = options
        self.store = store or ModelStore()
        device = resolve_device(options.asr.device)
        checkpoint = model_path(options.asr.model, self.store)
        whisper_model = load_whisper(checkpoint, device)
        onnx = load_runtime(options.asr, whisper_model, checkpoint, self.store, device)
        self.providers: tuple[str, ...] = onnx.providers if onnx else (f"torch:{device}",)
        self.acoustic = AcousticModel(
            whisper_model,
            options.asr.language,
            options.encoder_window_s,
            fp16=options.asr.fp16 and device == "cuda",
            onnx=onnx,
        )
        self.model_ids: tuple[str, ...] = (options.asr.model,)
        self.corrector: Corrector | None = None
        self.fused: FusedDecoder | None = None
        self.calibrated = Calibrated()
        self.context: tuple[str, ...] = load_phrases(options.context)
        if options.fusion != "none":
            self.load_llm()

    def set_context(self, phrases) -> tuple[str, ...]:
        """Replace the expected phrases (a robot's map changed); returns the list kept."""
        self.context = clean(phrases)
        return self.context

    def load_llm(self) -> None:
        """Load the LLM (done at start when the configured fusion needs it)."""
        from perception.llm.causal_lm import load_causal_lm

        if self.corrector is not None:
            return
        o = self.options
        device = resolve_device(o.asr.device)
        lm = load_causal_lm(
            o.llm.model,
            self.store,
            device,
            adapter=o.llm.adapter,
            sparse_mlp_tau=o.llm.sparse_mlp_tau,
        )
        prompt_cache = PromptCache(lm, o.llm)
        self.corrector = Corrector(lm, o.llm, prompt_cache)
        self.fused = FusedDecoder(lm, self.acoustic, o.llm, Temperatures(), prompt_cache)
        self.model_ids = (o.asr.model, calibration.llm_name(o.llm.model, o.llm.adapter))
        self._file = calibration.lookup(o.asr.model, o.llm.model, self.store, o.llm.adapter)
        self._resolve()

    def _resolve(self) -> None:
        """Fusion values: the options where set, else the calibration file, else defaults."""
        o, cal, base = self.options, getattr(self, "_file", None), Calibrated()

        def pick(option, name: str):
            if option is not None:
                return option
            return getattr(cal, name) if cal is not None else getattr(base, name)

        self.calibrated = Calibrated(
            pick(o.asr_temperature, "asr_temperature"),
            pick(o.llm_temperature, "llm_temperature"),
            pick(o.static_weight, "static_weight"),
            pick(o.guards.acceptance_margin, "acceptance_margin"),
            "calibration file" if cal is not None else "defaults",
        )
        if self.fused is not None:
            c = self.calibrated
            self.fused.t = Temperatures(asr=c.asr_temperature, llm=c.llm_temperature)

    def update(self, **changes) -> None:
        """Change option fields (``asr_temperature``, ``static_weight``, ``guards``, ...)
        without reloading models; the fused decoder follows the options."""
        self.options = dataclasses.replace(self.options, **changes)
        self._resolve()

    def decode(self, audio: np.ndarray) -> Decoded:
        """Features, N-best and no-speech probability of one utterance (16 kHz float32)."""
        t0 = time.perf_counter()
        features = self.acoustic.encode(audio)
        t1 = time.perf_counter()
        o = self.options
        previous = whisper_prompt(self.context) if o.context.whisper_prompt else ""
        result = self.acoustic.beam_search(
            features, o.asr.beam_size, self.token_budget(len(audio)), o.asr.timestamps, previous
        )
        return Decoded(
            features,
            result.hypotheses,
            result.no_speech_prob,
            {"encode": round((t1 - t0) * 1e3, 2), "beam_search": _ms(t1)},
        )

    def token_budget(self, samples: int) -> int:
        """Most tokens Whisper may decode for an utterance of ``samples`` at 16 kHz."""
        o = self.options
        if o.tokens_per_second <= 0:
            return o.max_tokens
        return min(o.max_tokens, math.ceil(o.tokens_per_second * samples / SAMPLE_RATE) + 8)

    def fuse(self, decoded: Decoded, fusion: Fusion) -> Fused:
        """The final text by one method, from a shared :class:`Decoded`."""
        texts = [h.text for h in decoded.nbest]
        if not texts:
            return Fused("")
        if fusion == "none":
            return Fused(texts[0])
        language = decoded.features.language
        if language not in self.options.llm.languages:
            return Fused(texts[0], "", f"no corrector for language {language!r}: Whisper's text")
        return self._guard(decoded, texts, self.propose(decoded, fusion))

    def propose(self, decoded: Decoded, fusion: Fusion) -> str:
        """The LLM's text by GER, static or UADF fusion (within the length budget and the
        repetition rule; not yet accepted or rejected)."""
        if self.corrector is None or self.fused is None:
            raise RuntimeError(
                f"fusion {fusion!r} needs the LLM; build the recogniser with a "
                "fusion method other than 'none' or call load_llm()"
            )
        texts = [h.text for h in decoded.nbest]
        guards = self.options.guards
        context = self.context if self.options.context.llm_prompt else ()
        if fusion == "ger":
            return self.corrector.correct(texts, guards, context)
        c = self.calibrated
        weight = uadf_weight if fusion == "uadf" else static_weight(c.static_weight)
        return self.fused.decode(decoded.features, texts, weight, guards, context)

    def _guard(self, decoded: Decoded, texts: list[str], llm_text: str) -> Fused:
        """The LLM's text if it passes the checks, else the best hypothesis."""
        if not self.options.guards.enabled:
            return Fused(llm_text or texts[0], llm_text, "guards off")
        if echoes_prompt(llm_text, texts, example_lines(self.options.llm)):
            return Fused(texts[0], llm_text, "rejected: repeats a prompt example")
        verdict = acoustic_check(
            self.acoustic,
            decoded.features,
            texts[0],
            llm_text,
            self.calibrated.acceptance_margin,
        )
        return Fused(llm_text if verdict.accepted else texts[0], llm_text, verdict.reason)

    def recognize(self, utterance: Utterance, fusion: Fusion | None = None) -> Transcript:
        """Transcript of one utterance by ``fusion`` (default: the configured method)."""
        fusion = fusion or self.options.fusion
        decoded = self.decode(utterance.audio)
        t0 = time.perf_counter()
        silent = self._is_silence(decoded)
        fused = Fused("") if silent else self.fuse(decoded, fusion)
        timings = dict(decoded.timings_ms, fusion=_ms(t0))
        return Transcript(
            text=fused.text,
            nbest=tuple(
                Hypothesis(h.text, h.avg_logprob, h.token_logprobs) for h in decoded.nbest
            ),
            fusion=fusion,
            language=decoded.features.language,
            language_prob=round(decoded.features.language_prob, 4),
            start_s=utterance.start_s,
            end_s=utterance.end_s,
            no_speech_prob=decoded.no_speech_prob,
            timings_ms=timings,
            model_ids=self.model_ids,
            llm_text=fused.llm_text,
            guard=fused.guard,
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
