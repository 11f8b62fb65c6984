"""Whole-image mode: the rule on boxes and shapes, and a tight crop of a real photo."""

import numpy as np
import pytest

from perception.vision.postprocess import Candidate
from perception.vision.whole_image import (
    CropRule,
    fills_image,
    is_line,
    whole_candidate,
    with_border,
)

RULE = CropRule()


def box(x0, y0, x1, y1) -> Candidate:
    return Candidate(np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]), 0.9)


def test_boxes_that_span_the_image_make_it_a_crop_and_scattered_ones_do_not():
    assert fills_image([box(2, 3, 60, 20)], (24, 64), RULE)
    assert fills_image([box(0, 2, 30, 20), box(34, 2, 62, 20)], (24, 64), RULE)
    assert not fills_image([box(10, 10, 60, 30)], (480, 640), RULE)
    assert not fills_image([box(0, 0, 10, 10)] * 5, (12, 12), RULE)  # more boxes than a word
    assert not fills_image([], (24, 64), RULE)


def test_border_lines_and_the_whole_box():
    image = np.zeros((20, 60, 3), np.uint8)
    image[:, :, 0] = 200
    framed = with_border(image, RULE)
    assert framed.shape == (36, 76, 3) and (framed[0, 0] == (200, 0, 0)).all()
    assert is_line((20, 60), RULE) and not is_line((40, 60), RULE)
    assert whole_candidate((20, 60), 0.5).polygon_px.tolist() == [
        [0, 0], [59, 0], [59, 19], [0, 19]
    ]  # fmt: skip


@pytest.mark.model
def test_a_tight_crop_of_a_real_sign_is_read_whole(store):
    from perception.vision.api import VisionOptions, load_detector
    from perception.vision.photos import PHOTOS, _read_rgb

    crop = _read_rgb(PHOTOS / "mmocr_demo_text_ocr.jpg")[84:124, 18:90]  # "SALE" on a shop sign

    def regions(how: str):
        options = VisionOptions(detector="ppocr", threads=1, whole_image=how)
        return load_detector(options, store).detect(np.ascontiguousarray(crop))

    assert regions("never") == []  # the detector alone finds nothing in it
    (whole,) = regions("auto")
    assert whole.mode == "whole-image" and whole.text == "SALE"
    assert regions("always")[0].polygon_px[2] == (71.0, 39.0)


@pytest.mark.model
def test_a_blank_line_shaped_image_gives_nothing(store):
    from perception.vision.api import VisionOptions, load_detector

    det = load_detector(VisionOptions(detector="ppocr", threads=1), store)
    assert det.detect(np.full((40, 200, 3), 230, np.uint8)) == []
