import numpy as np

from perception.vision.postprocess import DbOptions, db_candidates, pick_labels, to_regions


def _two_boxes() -> np.ndarray:
    prob = np.zeros((120, 160), np.float32)
    prob[20:35, 10:80] = 0.9
    prob[70:90, 60:150] = 0.8
    return prob


def test_db_finds_each_box_and_grows_it():
    cands = db_candidates(_two_boxes(), DbOptions())
    assert len(cands) == 2
    areas = sorted(float(np.ptp(c.polygon_px[:, 0]) * np.ptp(c.polygon_px[:, 1])) for c in cands)
    assert areas[0] > 70 * 15 and areas[1] > 90 * 20  # unclipped beyond the shrunk kernel


def test_empty_map_gives_no_regions():
    assert db_candidates(np.zeros((64, 64), np.float32), DbOptions()) == []


def test_language_is_argmax_above_threshold_else_unknown():
    prob = np.array([[0.1, 0.9], [0.6, 0.4], [0.45, 0.55]], np.float32)
    labels = pick_labels(prob, ["aa", "bb"], 0.5)
    assert [lang for lang, _ in labels] == ["bb", "aa", "bb"]
    strict = pick_labels(prob, ["aa", "bb"], 0.95)
    assert [lang for lang, _ in strict] == ["unknown"] * 3
    np.testing.assert_allclose([p for _, p in strict], [0.9, 0.6, 0.55], rtol=1e-6)


def test_unknown_column_lowers_confidence_but_is_never_a_label_itself():
    prob = np.array([[0.2, 0.1, 0.7], [0.7, 0.1, 0.2], [0.35, 0.05, 0.6]], np.float32)
    labels = pick_labels(prob, ["aa", "bb"], 0.3)
    assert [lang for lang, _ in labels] == ["unknown", "aa", "aa"]


def test_boxes_scale_to_the_image_and_regions_are_clipped_and_sorted():
    cands = db_candidates(_two_boxes(), DbOptions(), image_hw=(60, 80))  # half the map's size
    assert all(c.polygon_px.dtype == np.float32 for c in cands)
    regions = to_regions(cands, [("x", 1.0)] * len(cands))
    assert regions[0].score >= regions[1].score
    for r in regions:
        pts = np.asarray(r.polygon_px)
        assert (pts >= 0).all() and (pts[:, 0] <= 79).all() and (pts[:, 1] <= 59).all()
        assert (pts == np.round(pts)).all()  # whole pixels, as rapidocr returns them


def test_boxes_three_pixels_or_thinner_are_dropped():
    prob = np.zeros((64, 64), np.float32)
    prob[30:31, 5:60] = 0.9  # one row: grows to a 3-4 px box in a quarter-size image
    assert db_candidates(prob, DbOptions(), image_hw=(16, 16)) == []
