"""Speech synthesis with espeak-ng, for making test clips and data sets we own.

Owns the espeak-ng command line only. It returns 16 kHz mono float32 like every other audio
source in the stack; noise and effects belong to the data generators.
"""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import soundfile as sf

from perception.audio.io import SAMPLE_RATE, AudioError, resample, to_float32


def synthesize(
    text: str, voice: str = "en-us", speed_wpm: int = 160, pitch: int = 50
) -> np.ndarray:
    """Speak ``text`` with espeak-ng.

    Args:
        text: what to say.
        voice: an espeak-ng voice, optionally with a variant (``"en-us+f3"``).
        speed_wpm: words per minute (espeak-ng ``-s``; 80–450).
        pitch: 0–99 (espeak-ng ``-p``).

    Returns:
        Samples at 16 kHz, shape (N,), float32 in [-1, 1].
    """
    if shutil.which("espeak-ng") is None:
        raise AudioError("espeak-ng is not installed; `apt-get install espeak-ng`")
    cmd = ["espeak-ng", "-v", voice, "-s", str(speed_wpm), "-p", str(pitch), "--stdout", text]
    result = subprocess.run(cmd, capture_output=True)
    if result.returncode != 0 or not result.stdout:
        raise AudioError(f"espeak-ng failed for voice {voice!r}: {result.stderr.decode()[-200:]}")
    data, rate_hz = sf.read(io.BytesIO(result.stdout), dtype="int16")
    return resample(to_float32(data), int(rate_hz), SAMPLE_RATE)
