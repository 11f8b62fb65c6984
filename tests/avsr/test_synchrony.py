"""The synchrony scorer on synthetic signals: a mouth that opens with the sound scores high, the
same mouth against another rhythm, a still mouth or a late sound track scores low."""

import numpy as np

from perception.avsr.synchrony import (
    SyncCalibration,
    SyncFeatures,
    detrend,
    fit_logistic,
    lagged_correlation,
    log_energy,
    mouth_opening,
    sync_features,
)


def _mouth(opening: np.ndarray) -> np.ndarray:
    """(T, 32, 32) crops: a mouth interior whose darkness and height follow ``opening``."""
    crops = np.full((len(opening), 32, 32), 180, np.uint8)
    for t, o in enumerate(opening):
        half = int(round(1 + 5 * o))
        crops[t, 16 - half : 16 + half, 8:24] = int(180 - 140 * o)
    return crops


def _syllables(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    t = 5
    while t < n - 5:
        d = int(rng.integers(2, 6))
        x[t : t + d] = rng.uniform(0.4, 1.0)
        t += d + int(rng.integers(1, 4))
    return x


def test_lagged_correlation_finds_a_one_step_delay_and_a_flat_signal_scores_zero():
    x = np.sin(np.arange(50) / 2.0)
    y = np.roll(x, 1)  # y[t + 1] = x[t]
    assert lagged_correlation(x, y, (0, 1)) > 0.99
    assert lagged_correlation(x, y, (0,)) < 0.9
    assert lagged_correlation(np.zeros(50), y) == 0.0
    assert abs(detrend(np.full(20, 3.0))).max() < 1e-9


def test_mouth_in_time_with_its_sound_scores_above_other_sounds_and_a_still_face():
    opening = _syllables(60, 0)
    crops = _mouth(opening)
    energy = np.log(1e-6 + opening * 0.1)  # loud while open
    other = np.log(1e-6 + _syllables(60, 1) * 0.1)
    own = sync_features(crops, energy)
    assert mouth_opening(crops).std() > 0
    assert own.sync > 0.8 and own.motion > 0.0
    assert sync_features(crops, other).sync < own.sync - 0.3
    still = sync_features(np.repeat(crops[:1], 60, 0), energy)
    assert still.sync == 0.0 and still.motion == 0.0
    assert sync_features(crops, np.roll(energy, 8)).sync < own.sync - 0.3  # 320 ms late


def test_log_energy_reads_each_step_and_silence_outside_the_audio():
    audio = np.concatenate([np.zeros(8000), 0.5 * np.ones(8000)]).astype(np.float32)
    e = log_energy(audio, np.array([0.25, 0.75, 2.0]))
    assert e[1] > e[0] + 10 and e[2] < -20


def test_logistic_separates_features_and_calibration_is_a_probability():
    rng = np.random.default_rng(0)
    pos = rng.normal([0.5, 0.5], 0.1, (40, 2))
    neg = rng.normal([0.0, 0.0], 0.1, (40, 2))
    cal = fit_logistic(np.concatenate([pos, neg]), np.r_[np.ones(40), np.zeros(40)])
    assert cal.probability(SyncFeatures(0.5, 0.5)) > 0.9
    assert cal.probability(SyncFeatures(0.0, 0.0)) < 0.1
    assert 0.0 < SyncCalibration().probability(SyncFeatures(100.0, 100.0)) <= 1.0
