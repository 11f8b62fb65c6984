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
