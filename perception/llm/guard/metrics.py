"""Detector metrics: AUROC, the true-positive rate at a false-positive rate, and the expected
calibration error of probabilities.

Scores are "higher = flag"; ties count half (the Mann-Whitney form of the AUROC).
"""

from __future__ import annotations

import numpy as np


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(score of a random positive > score of a random negative), ties half; nan if empty."""
    pos, neg = np.asarray(positive, np.float64), np.asarray(negative, np.float64)
    if not len(pos) or not len(neg):
        return float("nan")
    ranks = _ranks(np.concatenate([pos, neg]))
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their mean rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def tpr_at_fpr(positive: np.ndarray, negative: np.ndarray, fpr: float) -> float:
    """Fraction of positives flagged at the threshold that flags at most ``fpr`` of negatives
    (the threshold is read from these negatives themselves)."""
    from perception.llm.guard.heads import threshold_at_fpr

    if not len(positive) or not len(negative):
        return float("nan")
    return float(np.mean(np.asarray(positive) >= threshold_at_fpr(negative, fpr)))


def flag_rate(scores: np.ndarray, threshold: float) -> float:
    """Fraction of ``scores`` at or above ``threshold`` (nan if empty)."""
    return float(np.mean(np.asarray(scores) >= threshold)) if len(scores) else float("nan")


def calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the count-weighted mean |mean probability - positive share|
    over ``bins`` equal-width probability bins (nan if empty)."""
    p, y = np.asarray(probs, np.float64), np.asarray(labels, np.float64)
    if not len(p):
        return float("nan")
    which = np.minimum((p * bins).astype(int), bins - 1)
    gaps = [
        abs(p[which == b].mean() - y[which == b].mean()) * np.sum(which == b)
        for b in range(bins)
        if np.any(which == b)
    ]
    return float(np.sum(gaps) / len(p))
