"""The audio-visual recogniser: one object used by ``perception avsr-eval``, the speech node
(when it is given a camera) and the bag replay.

Given an utterance's audio and the camera frames that cover it, it tracks the face's mouth,
runs the visual speech model, decides whether the person on camera said it (active-speaker
gate) and transcribes it with Whisper fused with the lips (:mod:`perception.avsr.fusion`).

Gate: Silero's speech probability of the utterance and the visual activity of the face during
the speech frames, each calibrated by a temperature, multiplied: P(the person on camera spoke).
With ``face_detector: mtcnn`` (real cameras, the default) the faces come from MTCNN
(:mod:`perception.avsr.realface`), each face's P(speaking) from the synchrony of its mouth with
the sound (:mod:`perception.avsr.synchrony`), the speaker is the likeliest face (none below
0.5), and the lips never vote in the transcript: the visual speech model was trained on drawn
mouths and reads nothing on real ones. With ``drawn`` everything is as for the rendered data.
With ``gate: on-camera`` an utterance below 0.5 is reported as not the user's (speech from
off-camera people or loudspeakers is ignored); with ``gate: audio`` every utterance is kept and
the probabilities are only reported.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from perception.audio import SAMPLE_RATE
from perception.avsr import weights
from perception.avsr.frontend import MODEL_HZ, MouthTrack, track
from perception.avsr.fusion import VisualPrefixScorer, av_uadf_weight, decode
from perception.avsr.model import VisualOutput, run
from perception.avsr.options import AvOptions
from perception.avsr.sync import FrameBuffer, StreamClock
from perception.avsr.synchrony import load_calibration, log_energy, sync_features
from perception.speech.acoustic import AcousticModel, Features
from perception.speech.types import Transcript, Utterance
from perception.speech.uadf import static_weight
from perception.speech.vad import FRAME, SileroVad


@dataclass(frozen=True)
class Temperatures:
    audio: float = 1.0
    visual: float = 1.0
    activity: float = 1.0
    vad: float = 1.0
    static_weight: float = 0.5


@dataclass(frozen=True)
class GateScores:
    """Calibrated probabilities for one utterance."""

    speech: float  # Silero: there is speech
    face: float  # the face on camera is speaking during it
    user: float  # both: the person on camera spoke

    def accepted(self, gate: str) -> bool:
        return gate == "audio" or self.user >= 0.5


@dataclass(frozen=True)
class AvResult:
    """One utterance's audio-visual outcome."""

    text: str  # "" when the gate rejected it
    fusion: str  # the fusion used: the configured one, or "audio" when the face did not speak
    gate: GateScores
    accepted: bool
    speaker_box: tuple[float, float, float, float] | None  # the face that spoke, pixels
    timings_ms: dict[str, float]
    faces_per_frame: tuple[int, ...] = ()  # faces found in each frame (mtcnn)
    face_probs: tuple[float, ...] = ()  # P(speaking) of each face track (mtcnn)


@dataclass(frozen=True)
class Speakers:
    """Every face tracked over an utterance and how likely each is to be the one speaking."""

    faces_per_frame: tuple[int, ...]
    tracks: tuple[MouthTrack, ...]
    probs: tuple[float, ...]  # P(speaking) per track

    def best(self) -> int | None:
        return int(np.argmax(self.probs)) if self.probs else None


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def speech_score(vad: SileroVad, audio: np.ndarray) -> tuple[float, np.ndarray]:
    """(utterance speech score, per-frame Silero probabilities): the score is the highest mean
    over 5 consecutive 32 ms frames."""
    vad.reset()
    n = len(audio) // FRAME
    probs = np.array([vad(audio[i * FRAME : (i + 1) * FRAME]) for i in range(n)], np.float32)
    if n == 0:
        return 0.0, probs
    k = min(5, n)
    return float(np.convolve(probs, np.ones(k) / k, "valid").max()), probs


def face_score(
    activity: np.ndarray, times_s: np.ndarray, vad_probs: np.ndarray, offset_s: float = 0.0
) -> float:
    """Mean visual activity over the model steps where Silero hears speech (all steps when it
    hears none); ``offset_s``: the audio's start on the track's clock."""
    frame_t = offset_s + (np.arange(len(vad_probs)) + 0.5) * FRAME / SAMPLE_RATE
    speech_t = frame_t[vad_probs > 0.5]
    if len(speech_t) == 0 or len(activity) == 0:
        return float(activity.mean()) if len(activity) else 0.0
    near = np.abs(times_s[:, None] - speech_t[None, :]).min(1) <= 0.5 / MODEL_HZ + 0.016
    return float(activity[near].mean()) if near.any() else float(activity.mean())


class AvRecognizer:
    """Whisper + the visual models + Silero, with the calibrated temperatures."""

    def __init__(self, options: AvOptions, acoustic: AcousticModel, vad: SileroVad) -> None:
        self.options, self.acoustic, self.vad = options, acoustic, vad
        self.ckpt = weights.load(options.weights)
        self.t = self._temperatures(weights.load_calibration(options.weights))
        self.detector, self.sync = None, load_calibration()
        if options.face_detector == "mtcnn":
            from perception.avsr.realface import MtcnnDetector

            self.detector = MtcnnDetector()

    def _temperatures(self, cal: dict | None) -> Temperatures:
        o, c = self.options, (cal or {})
        return Temperatures(
            audio=o.audio_temperature or c.get("audio_temperature", 1.0),
            visual=o.visual_temperature or c.get("visual_temperature", 1.0),
            activity=c.get("activity_temperature", 1.0),
            vad=c.get("vad_temperature", 1.0),
            static_weight=o.static_weight
            if o.static_weight is not None
            else c.get("static_weight", 0.5),
        )

    def set_temperatures(self, t: Temperatures) -> None:
        self.t = t

    def look(
        self, frames: np.ndarray, stamps_s: np.ndarray, start_s: float, end_s: float
    ) -> tuple[MouthTrack, VisualOutput]:
        """The mouth track over [start_s, end_s] (camera clock) and the visual model's output."""
        mt = track(self.ckpt.landmarks, frames, stamps_s, start_s=start_s, end_s=end_s)
        return mt, run(self.ckpt.visual, mt.crops)

    def speakers(
        self, frames: np.ndarray, stamps_s: np.ndarray, audio: np.ndarray, audio_start_s: float
    ) -> Speakers:
        """Real faces (MTCNN) over the utterance and each one's P(speaking) by synchrony."""
        from perception.avsr.realface import link_tracks, mouth_track

        assert self.detector is not None, "speakers() needs face_detector: mtcnn"
        dets = self.detector.detect(frames)
        end = audio_start_s + len(audio) / SAMPLE_RATE
        tracks, probs = [], []
        for faces in link_tracks(dets):
            mt = mouth_track(frames, stamps_s, faces, start_s=audio_start_s, end_s=end)
            energy = log_energy(audio, mt.times_s, audio_start_s)
            tracks.append(mt)
            probs.append(self.sync.probability(sync_features(mt.crops, energy)))
        return Speakers(tuple(len(d) for d in dets), tuple(tracks), tuple(probs))

    def recognize_real(
        self, audio: np.ndarray, frames: np.ndarray, stamps_s: np.ndarray, audio_start_s: float
    ) -> AvResult:
        """:meth:`recognize` for real faces: the speaker by synchrony, the text from audio."""
        t0 = time.perf_counter()
        sp = self.speakers(frames, stamps_s, audio, audio_start_s)
        t1 = time.perf_counter()
        k = sp.best()
        face = sp.probs[k] if k is not None else 0.0
        speech = _sigmoid(_logit(speech_score(self.vad, audio)[0]) / self.t.vad)
        scores = GateScores(speech, face, speech * face)
        accepted = scores.accepted(self.options.gate)
        t2 = time.perf_counter()
        text = self.transcribe(self.acoustic.encode(audio), None, "audio") if accepted else ""
        t3 = time.perf_counter()
        box = None
        if k is not None and face >= 0.5:
            seen = sp.tracks[k].present > 0
            box = tuple(float(v) for v in sp.tracks[k].boxes[seen].mean(0))
        timings = {"visual": (t1 - t0) * 1e3, "gate": (t2 - t1) * 1e3, "decode": (t3 - t2) * 1e3}
        return AvResult(
            text, "audio", scores, accepted, box, timings, sp.faces_per_frame, sp.probs
        )

    def gate(
        self, audio: np.ndarray, mt: MouthTrack, out: VisualOutput, audio_start_s: float
    ) -> GateScores:
        raw_speech, probs = speech_score(self.vad, audio)
        raw_face = face_score(out.activity(), mt.times_s, probs, audio_start_s)
        speech = _sigmoid(_logit(raw_speech) / self.t.vad)
        face = _sigmoid(_logit(raw_face) / self.t.activity)
        return GateScores(speech, face, speech * face)

    def transcribe(self, features: Features, out: VisualOutput | None, fusion: str) -> str:
        """One fused decoding (``audio``: Whisper greedy at its temperature)."""
        if fusion == "audio" or out is None:
            return decode(
                self.acoustic, features, None, static_weight(0.0), self.t.audio, self.options.top_k
            )
        scorer = VisualPrefixScorer(out.word_logits, self.ckpt.vocabulary, self.t.visual)
        weight = av_uadf_weight if fusion == "av-uadf" else static_weight(self.t.static_weight)
        return decode(self.acoustic, features, scorer, weight, self.t.audio, self.options.top_k)

    def recognize(
        self, audio: np.ndarray, frames: np.ndarray, stamps_s: np.ndarray, audio_start_s: float
    ) -> AvResult:
        """An utterance's audio (16 kHz, starting at ``audio_start_s`` on the camera's clock)
        and the frames around it."""
        if self.options.face_detector == "mtcnn":
            return self.recognize_real(audio, frames, stamps_s, audio_start_s)
        t0 = time.perf_counter()
        end = audio_start_s + len(audio) / SAMPLE_RATE
        mt, out = self.look(frames, stamps_s, audio_start_s, end)
        t1 = time.perf_counter()
        scores = self.gate(audio, mt, out, audio_start_s)
        accepted = scores.accepted(self.options.gate)
        text = ""
        t2 = time.perf_counter()
        # the lips vote only when they are the speaker's: speech the face on camera did not say
        # (off camera, a loudspeaker) is transcribed from the audio alone
        fusion = self.options.fusion if scores.face >= 0.5 else "audio"
        if accepted:
            text = self.transcribe(self.acoustic.encode(audio), out, fusion)
        t3 = time.perf_counter()
        speaking = out.activity() >= 0.5
        box = tuple(float(v) for v in mt.boxes[speaking].mean(0)) if speaking.any() else None
        timings = {"visual": (t1 - t0) * 1e3, "gate": (t2 - t1) * 1e3, "decode": (t3 - t2) * 1e3}
        return AvResult(text, fusion, scores, accepted, box, timings)


class AvStream:
    """The AV recogniser on a live or replayed stream: camera frames buffered by header stamp,
    the audio's clock taken from its chunks' stamps, and each transcript of the speech pipeline
    annotated with what the camera saw (see :mod:`perception.avsr.sync`)."""

    def __init__(self, recognizer: AvRecognizer) -> None:
        self.recognizer = recognizer
        self.frames = FrameBuffer(slack_s=recognizer.options.max_frame_gap_s)
        self.clock = StreamClock()
        self.heard_s = 0.0  # audio fed so far, seconds
        self._lock = threading.Lock()  # a node adds frames on one thread, recognises on another

    def on_audio(self, samples: int, stamp_s: float | None) -> None:
        """``samples`` (16 kHz) arrived in a chunk stamped ``stamp_s`` (None: unstamped)."""
        if stamp_s is not None:
            self.clock.observe(stamp_s, self.heard_s)
        self.heard_s += samples / SAMPLE_RATE

    def on_frame(self, stamp_s: float, bgr: np.ndarray) -> None:
        if bgr.ndim != 3 or bgr.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) camera frame, got shape {bgr.shape}")
        with self._lock:
            self.frames.add(stamp_s, bgr)

    def annotate(self, t: Transcript, u: Utterance) -> Transcript:
        """``t`` with the AV text, the speaker probability and box; the text is emptied when
        the gate is ``on-camera`` and the face did not say it. Unchanged (speaker_prob -1) when
        no frames cover the utterance."""
        start = self.clock.to_header(u.start_s)
        if start is None:
            return t
        with self._lock:
            window = self.frames.window(start, start + len(u.audio) / SAMPLE_RATE)
        if window is None:
            return t
        r = self.recognizer.recognize(u.audio, window[0], window[1], start)
        changes: dict = {
            "av_text": r.text,
            "speaker_prob": r.gate.user,
            "speaker_box": r.speaker_box,
            "timings_ms": {
                **t.timings_ms,
                **{f"av_{k}": round(v, 2) for k, v in r.timings_ms.items()},
            },
        }
        if not r.accepted:
            changes |= {"text": "", "guard": "ignored: the person on camera did not say it"}
        return dataclasses.replace(t, **changes)

    def reset(self) -> None:
        with self._lock:
            self.frames.clear()
        self.clock.reset()
        self.heard_s = 0.0


def load_av_stream(options: AvOptions, acoustic: AcousticModel, store=None) -> AvStream:
    """The AV stream of a speech pipeline (its own Silero state, the pipeline's Whisper)."""
    from perception.speech.vad import VadOptions, load_vad

    return AvStream(AvRecognizer(options, acoustic, load_vad(VadOptions(), store)))
