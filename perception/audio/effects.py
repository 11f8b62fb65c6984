"""Real-world degradations for rendered speech: speed perturbation, room reverberation from a
synthetic impulse response, a far-away talker, and a clipped (over-driven) microphone.

Owns the signal processing only; which effect goes on which utterance is the data set's choice
(:mod:`perception.speech.dataset`). All functions take and return 16 kHz mono float32 and are
deterministic given their ``rng``.
"""

from __future__ import annotations

import numpy as np

from perception.audio.io import SAMPLE_RATE, resample


def speed_perturb(audio: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (tempo and pitch together, as Kaldi's 0.9/1.1 perturbation:
    resample from rate·factor to rate)."""
    if factor <= 0:
        raise ValueError(f"speed factor must be > 0, got {factor}")
    return resample(audio, int(round(SAMPLE_RATE * factor)), SAMPLE_RATE)


def room_impulse_response(
    rt60_s: float, rng: np.random.Generator, direct_ratio_db: float = 0.0
) -> np.ndarray:
    """A synthetic room impulse response: a direct path, then Gaussian noise that decays by
    60 dB in ``rt60_s`` seconds (Schroeder's statistical model of late reverberation), its
    energy ``direct_ratio_db`` below the direct path's. Normalised to unit peak.

    Args:
        rt60_s: reverberation time in seconds (0.2 a small office, 0.8 a hall).
        direct_ratio_db: direct-to-reverberant energy ratio in dB (lower = farther away).
    """
    n = int(rt60_s * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60_s)  # ln(1000) = 60 dB amplitude
    tail[: int(0.002 * SAMPLE_RATE)] = 0.0  # first reflections arrive after ~2 ms
    tail *= np.sqrt(10 ** (-direct_ratio_db / 10) / max(np.sum(tail**2), 1e-12))
    rir = tail
    rir[0] = 1.0
    return (rir / np.abs(rir).max()).astype(np.float32)


def reverberate(audio: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve with an impulse response, keep the original length and RMS level."""
    out = np.convolve(audio.astype(np.float64), rir.astype(np.float64))[: len(audio)]
    rms_in = np.sqrt(np.mean(audio.astype(np.float64) ** 2))
    rms_out = np.sqrt(np.mean(out**2)) + 1e-12
    return (out * rms_in / rms_out).astype(np.float32)


def far_field(audio: np.ndarray, rng: np.random.Generator, level_db: float = -30.0) -> np.ndarray:
    """A talker across a room: strong reverberation (RT60 0.5–0.9 s, direct-to-reverberant
    ratio −6 to 0 dB) and a quiet signal (RMS at ``level_db`` dBFS)."""
    rir = room_impulse_response(rng.uniform(0.5, 0.9), rng, rng.uniform(-6.0, 0.0))
    wet = reverberate(audio, rir).astype(np.float64)
    rms = np.sqrt(np.mean(wet**2)) + 1e-12
    return (wet * 10 ** (level_db / 20) / rms).astype(np.float32)


def clip(audio: np.ndarray, gain_db: float = 18.0) -> np.ndarray:
    """An over-driven input: amplify by ``gain_db`` and hard-clip at full scale."""
    return np.clip(audio * 10 ** (gain_db / 20), -1.0, 1.0).astype(np.float32)
