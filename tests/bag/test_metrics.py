"""Matching and metrics on hand-made cases with known answers."""

from __future__ import annotations

import math

import pytest

from perception.bag import metrics
from perception.speech.types import Transcript
from perception.vision.types import TextRegion

SQUARE = ((10.0, 10.0), (50.0, 10.0), (50.0, 30.0), (10.0, 30.0))
FAR = ((100.0, 100.0), (140.0, 100.0), (140.0, 120.0), (100.0, 120.0))


def _gt(poly, lang, dont_care=False):
    return {"polygon_px": poly, "language": lang, "script": "", "text": "", "dont_care": dont_care}


def test_match_frame_counts_hits_misses_and_false_positives():
    truth = [_gt(SQUARE, "en"), _gt(FAR, "zh")]
    shifted = tuple((x + 2, y) for x, y in SQUARE)  # IoU ~0.9
    regions = (TextRegion(shifted, 0.9, "en"), TextRegion(((0, 150), (20, 150), (20, 170)), 0.5))
    items = metrics.match_frame(truth, regions)
    assert sorted((i.group, i.is_truth, i.matched) for i in items) == [
        ("en", True, True),
        ("no language", False, False),
        ("zh", True, False),
    ]
    assert metrics.hmean(items) == pytest.approx(2 * 1 / (2 * 1 + 1 + 1))
    assert metrics.language_accuracy(items) == 1.0


def test_dont_care_matches_are_ignored_and_wrong_language_counts():
    truth = [_gt(SQUARE, "ar", dont_care=True), _gt(FAR, "he")]
    regions = (TextRegion(SQUARE, 0.9, "ar"), TextRegion(FAR, 0.8, "ar"))
    items = metrics.match_frame(truth, regions)
    assert len(items) == 1 and items[0].matched and not items[0].language_correct
    hm, lang = metrics.detection_reports(items)
    assert hm.overall == 1.0 and lang.overall == 0.0 and lang.worst_group == "he"


def _t(text, start, end):
    return Transcript(text, (), "none", "en", start, end, 0.0, {}, ())


def test_utterances_matched_by_overlap_and_extras_are_insertions():
    refs = [
        {"start_s": 0.0, "end_s": 2.0, "text": "go left", "voice": "a"},
        {"start_s": 3.0, "end_s": 5.0, "text": "stop now", "voice": "b"},
    ]
    items = metrics.match_utterances(
        refs,
        [
            _t("go left", 0.1, 1.9),
            _t("stop", 3.2, 4.0),
            _t("now", 4.1, 4.8),
            _t("hello", 8.0, 9.0),
        ],
    )
    assert [(i.reference, i.hypothesis, i.group) for i in items] == [
        ("go left", "go left", "a"),
        ("stop now", "stop now", "b"),
        ("", "hello", metrics.NO_REFERENCE),
    ]
    report = metrics.wer_report(items)
    assert report.overall == pytest.approx(1 / 4)  # one insertion over four reference words
    assert report.worst_group == metrics.NO_REFERENCE


def test_percentiles_empty_and_values():
    assert metrics.percentiles_ms([]) == {}
    p = metrics.percentiles_ms([1.0, 2.0, 3.0, 4.0])
    assert p["count"] == 4 and p["max_ms"] == 4.0 and math.isclose(p["p50_ms"], 2.5)
