"""Speech synthesis with espeak-ng (formant voices) and flite (voices built from CMU ARCTIC
recordings of real speakers), for making test clips and data sets we own.

Owns the two command lines only. It returns 16 kHz mono float32 like every other audio
source in the stack; noise and effects belong to the data generators.
"""

from __future__ import annotations

import ctypes
import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from perception.audio.io import SAMPLE_RATE, AudioError, resample, to_float32


def synthesize(
    text: str, voice: str = "en-us", speed_wpm: int = 160, pitch: int = 50
) -> np.ndarray:
    """Speak ``text`` with espeak-ng, or with flite for a ``flite:NAME`` voice.

    Args:
        text: what to say.
        voice: an espeak-ng voice, optionally with a variant (``"en-us+f3"``), or
            ``"flite:slt"`` / ``"flite:rms"`` / ``"flite:awb"`` / ``"flite:kal16"``.
        speed_wpm: words per minute (espeak-ng ``-s``; 80–450). flite has no rate in words:
            its durations are stretched by 170 / speed_wpm (170 ≈ its natural rate).
        pitch: 0–99 (espeak-ng ``-p``; flite ignores it).

    Returns:
        Samples at 16 kHz, shape (N,), float32 in [-1, 1].
    """
    if voice.startswith("flite:"):
        return _flite(text, voice.split(":", 1)[1], 170.0 / speed_wpm)
    if shutil.which("espeak-ng") is None:
        raise AudioError("espeak-ng is not installed; `apt-get install espeak-ng`")
    cmd = ["espeak-ng", "-v", voice, "-s", str(speed_wpm), "-p", str(pitch), "--stdout", text]
    result = subprocess.run(cmd, capture_output=True)
    if result.returncode != 0 or not result.stdout:
        raise AudioError(f"espeak-ng failed for voice {voice!r}: {result.stderr.decode()[-200:]}")
    data, rate_hz = sf.read(io.BytesIO(result.stdout), dtype="int16")
    return resample(to_float32(data), int(rate_hz), SAMPLE_RATE)


def _flite(text: str, voice: str, stretch: float) -> np.ndarray:
    if shutil.which("flite") is None:
        raise AudioError("flite is not installed; `apt-get install flite`")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        cmd = ["flite", "-voice", voice, "--setf", f"duration_stretch={stretch:.3f}"]
        result = subprocess.run([*cmd, "-t", text, "-o", str(out)], capture_output=True)
        if result.returncode != 0 or not out.is_file():
            raise AudioError(f"flite failed for voice {voice!r}: {result.stderr.decode()[-200:]}")
        data, rate_hz = sf.read(out, dtype="int16")
    return resample(to_float32(data), int(rate_hz), SAMPLE_RATE)


@dataclass(frozen=True)
class TimedSpeech:
    """espeak-ng speech with when each phoneme and word starts (seconds from the audio start).

    ``phonemes``: (start_s, espeak-ng phoneme mnemonic), ``"_"`` and ``"_:"`` are pauses;
    ``words``: (start_s, word as written in the text).
    """

    audio: np.ndarray = field(repr=False)  # (N,) float32, 16 kHz
    phonemes: tuple[tuple[float, str], ...]
    words: tuple[tuple[float, str], ...]

    @property
    def duration_s(self) -> float:
        return len(self.audio) / SAMPLE_RATE


_EVENT_WORD, _EVENT_PHONEME = 1, 7


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):  # espeak_EVENT of speak_lib.h
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)
_LIB: dict[str, object] = {}


def _espeak_library():
    """libespeak-ng, initialised once for synchronous synthesis with phoneme events."""
    if "lib" not in _LIB:
        try:
            lib = ctypes.CDLL("libespeak-ng.so.1")
        except OSError as exc:
            raise AudioError(
                f"libespeak-ng is not loadable ({exc}); `apt-get install libespeak-ng1`"
            ) from exc
        rate = lib.espeak_Initialize(0x02, 0, None, 0x0001)  # synchronous, phoneme events
        if rate <= 0:
            raise AudioError("espeak_Initialize failed")
        _LIB["lib"], _LIB["rate"] = lib, rate
    return _LIB["lib"], int(_LIB["rate"])


def synthesize_timed(
    text: str, voice: str = "en-us", speed_wpm: int = 160, pitch: int = 50
) -> TimedSpeech:
    """Speak ``text`` with libespeak-ng (the library behind the espeak-ng command) and keep its
    phoneme and word events, whose audio positions say when each starts.

    Args: as :func:`synthesize`, espeak-ng voices only (flite reports no phoneme times).
    """
    lib, rate_hz = _espeak_library()
    chunks: list[np.ndarray] = []
    events: list[tuple[int, int, int, str]] = []

    @_CALLBACK
    def collect(wav, n, event):
        if n > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while event[i].type != 0:
            e = event[i]
            if e.type == _EVENT_PHONEME:
                name = bytes(e.id.string).split(b"\0")[0].decode("ascii", "replace")
                events.append((e.type, e.sample, 0, name))
            elif e.type == _EVENT_WORD:
                events.append(
                    (e.type, e.sample, e.text_position, text[e.text_position - 1 :][: e.length])
                )
            i += 1
        return 0

    lib.espeak_SetSynthCallback(collect)
    # the library matches names and files, not languages: British English is the file "en"
    names = [voice, voice.replace("en-gb", "en", 1)] if voice.startswith("en-gb+") else [voice]
    if voice == "en-gb":
        names.append("en")
    if all(lib.espeak_SetVoiceByName(n.encode()) != 0 for n in names):
        raise AudioError(f"espeak-ng has no voice {voice!r}; `espeak-ng --voices` lists them")
    lib.espeak_SetParameter(1, int(speed_wpm), 0)  # espeakRATE
    lib.espeak_SetParameter(3, int(pitch), 0)  # espeakPITCH
    data = text.encode("utf-8")
    if lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, 0, None, None) != 0:
        raise AudioError(f"espeak-ng failed to speak {text[:40]!r}")
    lib.espeak_Synchronize()
    if not chunks:
        raise AudioError(f"espeak-ng produced no audio for {text[:40]!r}")
    audio = to_float32(np.concatenate(chunks))
    phonemes = tuple((s / rate_hz, name) for kind, s, _, name in events if kind == _EVENT_PHONEME)
    words = tuple((s / rate_hz, word) for kind, s, _, word in events if kind == _EVENT_WORD)
    return TimedSpeech(resample(audio, rate_hz, SAMPLE_RATE), phonemes, words)
