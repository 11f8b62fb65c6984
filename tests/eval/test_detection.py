import pytest

from perception.eval.detection import DetectionScore, iou, match_image, score

SQ = [(0, 0), (10, 0), (10, 10), (0, 10)]


def _shift(poly, dx):
    return [(x + dx, y) for x, y in poly]


def test_iou_identical_disjoint_and_half():
    assert iou(SQ, SQ) == pytest.approx(1.0)
    assert iou(SQ, _shift(SQ, 20)) == 0.0
    assert iou(SQ, _shift(SQ, 5)) == pytest.approx(50 / 150)


def test_self_intersecting_polygon_is_repaired_not_crashing():
    bowtie = [(0, 0), (10, 10), (10, 0), (0, 10)]
    assert 0.0 <= iou(bowtie, SQ) <= 1.0


def test_one_to_one_matching_at_iou_half():
    m = match_image([SQ], [False], [SQ, _shift(SQ, 1)])
    assert m.pairs == ((0, 0),) and len(m.care_det) == 2
    s = score([m])
    assert (s.precision, s.recall) == (0.5, 1.0) and s.hmean == pytest.approx(2 / 3)


def test_below_threshold_is_a_miss():
    s = score([match_image([SQ], [False], [_shift(SQ, 6)])])
    assert s.matched == 0 and s.recall == 0.0 and s.precision == 0.0


def test_dont_care_regions_and_detections_on_them_are_ignored():
    other = _shift(SQ, 30)
    m = match_image([SQ, other], [False, True], [SQ, _shift(other, 1)])
    s = score([m])
    assert s.n_gt == 1 and s.n_det == 1 and s.hmean == 1.0


def test_empty_corpus_scores_zero():
    assert DetectionScore(0, 0, 0).hmean == 0.0
    assert score([match_image([], [], [])]).n_det == 0
