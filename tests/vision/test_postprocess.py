import numpy as np

from perception.vision.postprocess import DbOptions, db_candidates, label_languages, to_regions


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


def test_language_is_unknown_below_threshold_and_argmax_above():
    cands = db_candidates(_two_boxes(), DbOptions())
    maps = np.zeros((2, 30, 40), np.float32)  # stride 4
    maps[1] = 0.9
    labels = label_languages(cands, maps, ["aa", "bb"], 4.0, 0.5)
    assert [lang for lang, _ in labels] == ["bb", "bb"]
    labels = label_languages(cands, maps * 0.1, ["aa", "bb"], 4.0, 0.5)
    assert {lang for lang, _ in labels} == {"unknown"}


def test_regions_are_clipped_and_sorted():
    cands = db_candidates(_two_boxes(), DbOptions())
    regions = to_regions(cands, [("x", 1.0)] * len(cands), (2.0, 2.0), (100, 100))
    assert regions[0].score >= regions[1].score
    for r in regions:
        pts = np.asarray(r.polygon_px)
        assert (pts >= 0).all() and (pts <= 99).all()
