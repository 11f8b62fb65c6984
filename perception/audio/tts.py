"""Speech synthesis with espeak-ng (formant voices) and flite (voices built from CMU ARCTIC
recordings of real speakers), for making test clips and data sets we own.

Owns the two command lines only. It returns 16 kHz mono float32 like every other audio
source in the stack; noise and effects belong to the data generators.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
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
