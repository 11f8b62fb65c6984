"""Active speaker from audio-visual synchrony: is this face the one we hear?

An opening mouth lets the voice out. Per 25 Hz step we take the mouth's opening (the mean
absolute vertical intensity gradient in the centre of the aligned mouth crop: lip edges, teeth
and the dark mouth interior) and the audio's log energy in 40 ms, remove the slow trend of both
(a 9-step moving average, so that "speech here, silence there" does not count: every utterance
has that), and take the best Pearson correlation over lags of 0 and +1 step (the lips lead the
sound by up to ~40 ms at 25 Hz) over the utterance's steps. Two features, combined by a logistic
fitted on real talking-face clips with constructed negatives (``bench/avsr_real.py``):

- ``sync``: that correlation;
- ``motion``: log of the mouth's mean motion (difference of consecutive crops) while the audio
  is loud relative to while it is quiet (a still face or a photo moves as much in both).

The choice (signal, trend window, lags) was made on the ten GRID clips of ``shared/data/av``:
coarser envelopes (motion against energy or its change, no detrending) separated a clip's face
with its own sound from the same face with another GRID sentence's sound no better than chance
(AUC 0.51-0.58), since every GRID sentence has the same rhythm. No model is trained on faces
(cf. SyncNet, Chung & Zisserman, ACCV 2016, which learns this correspondence). It does not know
what is said, and assumes one voice per utterance.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from perception.audio import SAMPLE_RATE

TREND_STEPS = 9  # moving average removed from both signals (360 ms at 25 Hz)
LAGS_STEPS = (0, 1)  # audio at t + lag against the mouth at t
CALIBRATION = Path(__file__).resolve().parent / "weights" / "synchrony.json"


def mouth_motion(crops: np.ndarray) -> np.ndarray:
    """(T, H, W) uint8 aligned mouth crops → (T,) mean absolute difference from the previous
    crop (0 for the first), in grey levels."""
    if len(crops) < 2:
        return np.zeros(len(crops), np.float32)
    x = crops.astype(np.float32)
    d = np.abs(np.diff(x, axis=0)).mean(axis=(1, 2))
    return np.concatenate([[0.0], d]).astype(np.float32)


def log_energy(audio: np.ndarray, times_s: np.ndarray, offset_s: float = 0.0) -> np.ndarray:
    """(T,) log mean power of the 16 kHz ``audio`` in 40 ms windows centred on each of
    ``times_s`` (camera clock; the audio starts at ``offset_s``); −23 (≈ silence) outside."""
    half = int(0.02 * SAMPLE_RATE)
    out = np.full(len(times_s), math.log(1e-10), np.float32)
    for i, t in enumerate(times_s):
        c = int(round((t - offset_s) * SAMPLE_RATE))
        seg = audio[max(c - half, 0) : max(c + half, 0)]
        if len(seg):
            out[i] = math.log(float(np.mean(seg.astype(np.float64) ** 2)) + 1e-10)
    return out


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-9 else 0.0


def mouth_opening(crops: np.ndarray) -> np.ndarray:
    """(T, H, W) uint8 aligned mouth crops → (T,) mean absolute vertical gradient of the
    central half of each crop, in grey levels per pixel."""
    h, w = crops.shape[1:3]
    x = crops[:, h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].astype(np.float32)
    return np.abs(np.diff(x, axis=1)).mean(axis=(1, 2)) if len(x) else np.zeros(0, np.float32)


def detrend(x: np.ndarray, k: int = TREND_STEPS) -> np.ndarray:
    """``x`` minus its centred ``k``-step moving average (edges repeated)."""
    pad = np.pad(x.astype(np.float64), (k // 2, k // 2), mode="edge")
    return x - np.convolve(pad, np.ones(k) / k, "valid")


def lagged_correlation(x: np.ndarray, y: np.ndarray, lags: tuple[int, ...] = LAGS_STEPS) -> float:
    """max over ``lags`` of the Pearson correlation of x[t] and y[t + lag] (0 when flat)."""
    n, best = len(x), -1.0
    for lag in lags:
        a = x[max(0, -lag) : n - max(0, lag)]
        b = y[max(0, lag) : n - max(0, -lag)]
        best = max(best, _corr(a, b) if len(a) >= 3 else 0.0)
    return best


@dataclass(frozen=True)
class SyncFeatures:
    sync: float  # best lagged correlation of detrended mouth opening and log energy
    motion: float  # log(motion while loud / motion while quiet)

    def array(self) -> np.ndarray:
        return np.array([self.sync, self.motion], np.float64)


def sync_features(crops: np.ndarray, energy: np.ndarray) -> SyncFeatures:
    """Features of one face over one utterance.

    Args:
        crops: (T, H, W) uint8 mouth crops at 25 Hz over the utterance.
        energy: (T,) log energy of the utterance's audio at the same steps (:func:`log_energy`).
    """
    if len(crops) < 4:
        return SyncFeatures(0.0, 0.0)
    sync = lagged_correlation(detrend(mouth_opening(crops)), detrend(energy))
    motion = mouth_motion(crops)
    loud = energy > np.percentile(energy, 60)
    quiet = energy <= np.percentile(energy, 30)
    if not loud.any() or not quiet.any():
        return SyncFeatures(sync, 0.0)
    ratio = (float(motion[loud].mean()) + 0.05) / (float(motion[quiet].mean()) + 0.05)
    return SyncFeatures(sync, math.log(ratio))


@dataclass(frozen=True)
class SyncCalibration:
    """P(speaking) = sigmoid(bias + weights · features)."""

    weights: tuple[float, float] = (10.0, 1.0)
    bias: float = -2.5
    source: str = "defaults"

    def probability(self, f: SyncFeatures) -> float:
        z = self.bias + float(np.dot(self.weights, f.array()))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def load_calibration(path: Path = CALIBRATION) -> SyncCalibration:
    """The fitted logistic (written by ``bench/avsr_real.py --save``); defaults without one."""
    if not path.is_file():
        return SyncCalibration()
    d = json.loads(path.read_text())
    return SyncCalibration(tuple(d["weights"]), float(d["bias"]), str(path.name))


def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = 0.1, steps: int = 50
) -> SyncCalibration:
    """Logistic regression by Newton's method with an L2 penalty on the weights, the two
    classes weighted equally (constructed negatives outnumber the positives several times, and
    a speaker missed counts as much as a speaker invented).

    Args:
        x: (N, 2) features; y: (N,) 0/1 labels.
    """
    a = np.concatenate([np.ones((len(x), 1)), x], 1)  # (N, 3)
    pos = max(float(y.sum()), 1.0)
    sw = np.where(y > 0.5, len(y) / (2 * pos), len(y) / (2 * max(len(y) - pos, 1.0)))
    theta = np.zeros(3)
    reg = np.diag([0.0, l2, l2])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(a @ theta, -50, 50)))
        grad = a.T @ (sw * (p - y)) + reg @ theta
        hess = (a * (sw * p * (1 - p))[:, None]).T @ a + reg + 1e-9 * np.eye(3)
        theta -= np.linalg.solve(hess, grad)
    return SyncCalibration((float(theta[1]), float(theta[2])), float(theta[0]), "fitted")
