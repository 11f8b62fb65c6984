"""Paired bootstrap intervals for the difference of two corpus-level error rates.

Two systems run on the same items; resampling items (with replacement) and recomputing both
corpus rates on each resample gives the spread of their difference that comes from which items
happened to be in the test set. It knows nothing about what the errors are (words, characters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Difference:
    """rate(a) − rate(b) on the full set, and its two-sided percentile interval."""

    difference: float
    low: float
    high: float
    confidence: float
    resamples: int

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def paired_difference(
    errors_a: np.ndarray,
    errors_b: np.ndarray,
    units: np.ndarray,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Difference:
    """Corpus rate difference (Σ errors_a − Σ errors_b) / Σ units with a paired bootstrap.

    Args:
        errors_a, errors_b: (N,) error counts per item of the two systems, same items.
        units: (N,) reference length per item (words or characters).
    """
    a, b, n = (np.asarray(x, np.float64) for x in (errors_a, errors_b, units))
    if not (a.shape == b.shape == n.shape) or a.ndim != 1 or len(a) == 0:
        raise ValueError(
            f"need three equal-length 1-D arrays, got {a.shape}, {b.shape}, {n.shape}"
        )
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(a), size=(resamples, len(a)))  # (R, N) item indices
    diffs = (a[picks].sum(1) - b[picks].sum(1)) / np.maximum(n[picks].sum(1), 1.0)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    full = (a.sum() - b.sum()) / max(n.sum(), 1.0)
    return Difference(float(full), float(low), float(high), confidence, resamples)
