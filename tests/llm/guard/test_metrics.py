"""Calibration error of detector probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from perception.llm.guard.metrics import calibration_error


def test_calibrated_probabilities_have_a_small_error_and_overconfident_ones_a_large_one():
    rng = np.random.default_rng(0)
    p = rng.random(20000)
    y = (rng.random(20000) < p).astype(int)  # outcomes drawn at the stated probability
    assert calibration_error(p, y) < 0.02
    assert calibration_error(np.where(p > 0.5, 1.0, 0.0), y) > 0.2


def test_calibration_error_of_one_bin_is_the_gap():
    assert calibration_error(np.array([0.9, 0.9]), np.array([1, 0])) == pytest.approx(0.4)
    assert np.isnan(calibration_error(np.array([]), np.array([])))
