import numpy as np
import pytest

from perception.vision.synth import render_scene

LANGS = ["en", "ar", "hi", "zh", "ml", "th", "ko"]


@pytest.mark.parametrize("seed", range(6))
def test_polygons_inside_image_and_labels_valid(seed):
    image, regions = render_scene(seed, LANGS, (320, 240))
    assert image.shape == (240, 320, 3) and image.dtype == np.uint8
    assert regions, "every scene should hold at least one word"
    for r in regions:
        pts = np.asarray(r.polygon_px)
        assert len(pts) in (4, 16)
        assert (pts >= 0).all() and (pts[:, 0] <= 319).all() and (pts[:, 1] <= 239).all()
        assert r.language in LANGS and r.text and isinstance(r.dont_care, bool)


def test_deterministic_from_seed():
    a_img, a_gt = render_scene(7, LANGS)
    b_img, b_gt = render_scene(7, LANGS)
    c_img, _ = render_scene(8, LANGS)
    assert np.array_equal(a_img, b_img) and a_gt == b_gt
    assert not np.array_equal(a_img, c_img)


def test_train_and_eval_splits_use_different_words():
    _, train = render_scene(3, ["en"], split="train")
    _, evaluation = render_scene(3, ["en"], split="eval")
    assert {r.text for r in train} != {r.text for r in evaluation}


def test_no_language_is_an_error():
    with pytest.raises(ValueError, match="at least one language"):
        render_scene(0, [])
