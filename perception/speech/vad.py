"""Voice activity detection: Silero VAD on onnxruntime, and a stream segmenter built on it.

Owns cutting a 16 kHz stream (chunks of any size) into utterances with start/end times and
padding, so that the recogniser is never called on silence. It knows nothing about recognition.

Silero VAD v5 scores 512-sample frames (32 ms) and carries a recurrent state; each frame is fed
with the previous frame's last 64 samples as context (the layout of the model's ONNX export).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception.audio import SAMPLE_RATE, to_float32
from perception.config import check
from perception.models.store import ModelStore
from perception.speech.types import Utterance

FRAME = 512  # samples per VAD frame at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous frame prepended to each frame


@dataclass(frozen=True)
class VadOptions:
    """Segmentation thresholds; times in milliseconds."""

    model: str = "silero-vad"
    threshold: float = 0.5
    min_speech_ms: int = 250
    min_silence_ms: int = 400
    pad_ms: int = 200
    max_utterance_s: float = 20.0

    def __post_init__(self) -> None:
        check(0.0 < self.threshold < 1.0, f"threshold must be in (0, 1), got {self.threshold}")
        check(
            self.min_speech_ms >= 0 and self.min_silence_ms >= 0 and self.pad_ms >= 0,
            "min_speech_ms, min_silence_ms and pad_ms must be >= 0",
        )
        check(
            self.max_utterance_s > 1.0,
            f"max_utterance_s must be > 1 s, got {self.max_utterance_s}",
        )


class SileroVad:
    """Frame-by-frame speech probability with the recurrent state kept between calls."""

    def __init__(self, onnx_path: str) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
        self.reset()

    def reset(self) -> None:
        self.state = np.zeros((2, 1, 128), np.float32)
        self.context = np.zeros(CONTEXT, np.float32)

    def __call__(self, frame: np.ndarray) -> float:
        """Speech probability of one (512,) float32 frame."""
        x = np.concatenate([self.context, frame])[None, :]  # (1, 576)
        prob, self.state = self.session.run(
            None, {"input": x, "state": self.state, "sr": np.array(SAMPLE_RATE, np.int64)}
        )
        self.context = frame[-CONTEXT:]
        return float(prob[0, 0])


def load_vad(options: VadOptions, store: ModelStore | None = None) -> SileroVad:
    """The ONNX file of the card's model (checksums verified)."""
    folder = (store or ModelStore()).resolve(options.model).parent
    return SileroVad(str(folder / "silero_vad.onnx"))


class StreamSegmenter:
    """Feeds chunks through the VAD and returns finished utterances (with padding).

    Speech starts when a frame's probability reaches ``threshold`` and ends after
    ``min_silence_ms`` of frames below ``threshold - 0.15`` (hysteresis, as Silero recommends);
    utterances shorter than ``min_speech_ms`` are dropped, longer than ``max_utterance_s`` cut.
    """

    def __init__(
        self, options: VadOptions, store: ModelStore | None = None, vad: SileroVad | None = None
    ) -> None:
        self.options = options
        self.vad = vad or load_vad(options, store)
        self.reset()

    def reset(self) -> None:
        self.vad.reset()
        self._pending = np.zeros(0, np.float32)  # samples not yet scored (< one frame)
        self._history: list[np.ndarray] = []  # scored frames kept for padding and output
        self._history_start = 0  # stream index of self._history[0][0]
        self._scored = 0  # samples scored so far
        self._speech_start: int | None = None
        self._silence = 0  # samples of trailing silence inside an utterance

    def feed(self, chunk: np.ndarray) -> list[Utterance]:
        """Add int16 or float32 samples at 16 kHz, shape (N,); returns utterances that ended."""
        self._pending = np.concatenate([self._pending, to_float32(chunk)])
        done = []
        while len(self._pending) >= FRAME:
            frame, self._pending = self._pending[:FRAME], self._pending[FRAME:]
            utterance = self._step(frame, self.vad(frame))
            if utterance is not None:
                done.append(utterance)
        return done

    @property
    def in_speech(self) -> bool:
        """True while an utterance has started and not ended."""
        return self._speech_start is not None

    def flush(self) -> list[Utterance]:
        """End of stream: the utterance in progress, if long enough."""
        if self._speech_start is None:
            return []
        utterance = self._cut(self._scored, pad_after=False)
        return [utterance] if utterance is not None else []

    def _ms(self, ms: float) -> int:
        return int(ms * SAMPLE_RATE / 1000)

    def _step(self, frame: np.ndarray, prob: float) -> Utterance | None:
        o = self.options
        start = self._scored
        self._history.append(frame)
        self._scored += FRAME
        if self._speech_start is None:
            if prob >= o.threshold:
                self._speech_start, self._silence = start, 0
            else:
                self._trim_history(keep=self._ms(o.pad_ms))
            return None
        self._silence = self._silence + FRAME if prob < o.threshold - 0.15 else 0
        too_long = self._scored - self._speech_start >= o.max_utterance_s * SAMPLE_RATE
        if self._silence >= self._ms(o.min_silence_ms) or too_long:
            end = self._scored - self._silence
            return self._cut(end, pad_after=True)
        return None

    def _cut(self, end: int, pad_after: bool) -> Utterance | None:
        o = self.options
        begin = max(self._speech_start - self._ms(o.pad_ms), self._history_start)
        stop = min(end + (self._ms(o.pad_ms) if pad_after else 0), self._scored)
        long_enough = end - self._speech_start >= self._ms(o.min_speech_ms)
        audio = np.concatenate(self._history)[
            begin - self._history_start : stop - self._history_start
        ]
        self._speech_start, self._silence = None, 0
        self._trim_history(keep=self._ms(o.pad_ms))
        if not long_enough:
            return None
        return Utterance(audio=audio, start_s=begin / SAMPLE_RATE, end_s=stop / SAMPLE_RATE)

    def _trim_history(self, keep: int) -> None:
        while self._history and self._scored - self._history_start - len(self._history[0]) >= keep:
            self._history_start += len(self._history.pop(0))


def segment(
    audio: np.ndarray,
    options: VadOptions,
    store: ModelStore | None = None,
    vad: SileroVad | None = None,
) -> list[Utterance]:
    """All utterances in a whole buffer (feed then flush)."""
    segmenter = StreamSegmenter(options, store, vad)
    return segmenter.feed(audio) + segmenter.flush()
