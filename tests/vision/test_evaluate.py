import numpy as np

from perception.vision.evaluate import LanguageRecord, relabel, sweep
from perception.vision.postprocess import pick_labels


def test_relabel_matches_a_detector_run_at_that_threshold():
    rng = np.random.default_rng(0)
    prob = rng.dirichlet(np.ones(5), size=200)  # 4 languages + MENTOR's unknown column
    classes = ["en", "ru", "el", "zxx"]
    truth = [classes[i] for i in rng.integers(0, 4, 200)]
    at_zero = pick_labels(prob, classes, 0.0)
    records = [LanguageRecord(t, lab, lab, p) for t, (lab, p) in zip(truth, at_zero, strict=True)]
    for threshold in (0.2, 0.3, 0.5):
        direct = [lab for lab, _ in pick_labels(prob, classes, threshold)]
        assert [r.predicted for r in relabel(records, threshold)] == direct


def test_sweep_counts_right_and_unknown():
    records = (
        LanguageRecord("en", "en", "en", 0.9),
        LanguageRecord("en", "en", "en", 0.4),
        LanguageRecord("ru", "el", "el", 0.2),
        LanguageRecord("ru", "ru", "ru", 0.6),
    )
    low, high = sweep(records, (0.0, 0.5))
    assert (low.right, low.unknown) == (0.75, 0.0)
    assert (high.right, high.unknown) == (0.5, 0.5)
