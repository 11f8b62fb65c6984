"""Heads: Platt calibration stays finite on separable dev data."""

from __future__ import annotations

import numpy as np

from perception.llm.guard.heads import fit_platt, sigmoid


def test_platt_on_separable_scores_keeps_probabilities_off_0_and_1():
    z = np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0])
    y = np.array([0, 0, 0, 1, 1, 1])
    a, b = fit_platt(z, y)
    p = sigmoid(a * z + b)
    assert 0 < a < 20
    assert p[y == 0].max() < 0.5 < p[y == 1].min()
    assert p.min() > 1e-3 and p.max() < 1 - 1e-3  # smoothed targets 1/5 and 4/5 bound it


def test_threshold_on_float32_scores_flags_at_most_the_rate():
    from perception.llm.guard.heads import threshold_at_fpr

    scores = np.random.default_rng(3).random(150).astype(np.float32)
    t = threshold_at_fpr(scores, 0.05)
    assert np.mean(scores >= t) <= 0.05  # compared in float32, as callers do
    assert np.mean(scores >= np.float32(np.sort(scores)[-8])) == 8 / 150


def test_platt_without_positives_keeps_the_logits_order():
    a, b = fit_platt(np.array([-1.0, 0.0, 2.0]), np.array([0, 0, 0]))
    assert (a, b) == (1.0, 0.0)
