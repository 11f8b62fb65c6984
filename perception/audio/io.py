"""Reading audio files and normalising samples to 16 kHz mono float32.

Owns decoding (soundfile for wav/flac/ogg/mp3; ffmpeg for anything else it cannot read),
sample-format conversion and resampling (torchaudio's windowed-sinc resampler). It knows nothing
about models or streams.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

from perception.errors import PerceptionError

SAMPLE_RATE = 16000  # Hz: what Whisper and Silero VAD expect
_INT16_SCALE = 32768.0
# Rates a file may declare. Real recordings use 8-192 kHz; a header outside this range is damaged
# (pocketsphinx's awful.wav says 1,092,676 Hz, and resampling from it took a minute for 441
# samples), so it is refused instead of resampled.
MIN_FILE_RATE_HZ = 1000
MAX_FILE_RATE_HZ = 384000


class AudioError(PerceptionError):
    """An audio file or buffer could not be decoded or is not in a supported format."""


def to_float32(samples: np.ndarray) -> np.ndarray:
    """Convert int16 PCM or float samples to float32 in [-1, 1]; stereo (N, C) is averaged.

    Args:
        samples: shape (N,) or (N, C); dtype int16, float32 or float64.
    """
    samples = np.asarray(samples)
    if samples.dtype == np.int16:
        samples = samples.astype(np.float32) / _INT16_SCALE
    elif samples.dtype.kind == "f":
        samples = samples.astype(np.float32, copy=False)
    else:
        raise AudioError(f"audio samples must be int16 or float, got dtype {samples.dtype}")
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    elif samples.ndim != 1:
        raise AudioError(
            f"audio samples must have shape (N,) or (N, channels), got {samples.shape}"
        )
    check_finite(samples)
    return samples


def check_finite(samples: np.ndarray, what: str = "audio") -> None:
    """Refuse samples with NaN or infinity (they are rejected, not repaired).

    One NaN poisons the VAD's recurrent state for the rest of a stream, and no value put in its
    place would be the signal that was meant; the caller skips the whole buffer instead.

    Raises:
        AudioError: naming how many samples are not finite and where the first one is.
    """
    if samples.dtype.kind != "f":
        return
    bad = ~np.isfinite(samples)
    if bad.any():
        first = int(np.argmax(bad))
        raise AudioError(
            f"{what}: {int(bad.sum())} of {samples.size} samples are NaN or infinite (first at "
            f"sample {first}); the buffer is rejected, not repaired: fix the recording or the "
            "node that produced it"
        )


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as int16 PCM, shape (N,); values beyond ±1 are clipped.

    Raises:
        AudioError: for NaN or infinite samples (casting them to int16 gives arbitrary values).
    """
    samples = np.asarray(samples, np.float32)
    check_finite(samples)
    return (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)


def resample(samples: np.ndarray, rate_hz: int, target_hz: int = SAMPLE_RATE) -> np.ndarray:
    """Resample mono float32 samples from ``rate_hz`` to ``target_hz`` (shape (N,) → (M,))."""
    if rate_hz == target_hz:
        return samples
    import torch
    import torchaudio.functional as F

    tensor = torch.from_numpy(np.ascontiguousarray(samples))
    return F.resample(tensor, rate_hz, target_hz).numpy()


def _ffmpeg_decode(path: Path, target_hz: int) -> np.ndarray:
    if shutil.which("ffmpeg") is None:
        raise AudioError(
            f"{path}: soundfile cannot decode it and ffmpeg is not installed "
            "(apt-get install ffmpeg)"
        )
    cmd = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(path),
        "-f",
        "s16le",
        "-ac",
        "1",
        "-ar",
        str(target_hz),
        "-",
    ]
    result = subprocess.run(cmd, capture_output=True)
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines() or ["no message"]
        raise AudioError(f"{path}: ffmpeg could not decode it: {lines[-1].strip()[-200:]}")
    return np.frombuffer(result.stdout, np.int16).astype(np.float32) / _INT16_SCALE


def load_audio(path: Path | str, target_hz: int = SAMPLE_RATE) -> np.ndarray:
    """Decode an audio file to mono float32 at ``target_hz``.

    Returns:
        Samples, shape (N,), values in [-1, 1].

    Raises:
        AudioError: the file is missing, cannot be decoded, declares a sample rate outside
            [MIN_FILE_RATE_HZ, MAX_FILE_RATE_HZ], holds no samples, or holds NaN / infinite
            samples (rejected, not repaired: see :func:`check_finite`).
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"audio file {path} does not exist")
    try:
        data, rate_hz = sf.read(str(path), dtype="float32", always_2d=False)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        data, rate_hz = _ffmpeg_decode(path, target_hz), target_hz
    if not MIN_FILE_RATE_HZ <= rate_hz <= MAX_FILE_RATE_HZ:
        raise AudioError(
            f"{path}: the header says {rate_hz} Hz; expected {MIN_FILE_RATE_HZ}-"
            f"{MAX_FILE_RATE_HZ} Hz (the file is damaged or not audio)"
        )
    if np.asarray(data).size == 0:
        raise AudioError(f"{path}: the file holds no samples (an empty recording)")
    try:
        samples = to_float32(data)
    except AudioError as exc:
        raise AudioError(f"{path}: {exc}") from None
    return resample(samples, int(rate_hz), target_hz)
