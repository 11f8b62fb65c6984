import numpy as np

from perception.vision import ppocr


def test_prepare_rounds_to_32_as_rapidocr_and_records_sizes():
    p = ppocr.prepare(np.zeros((477, 720, 3), np.uint8), min_side_px=0)
    assert p.tensor.shape == (1, 3, 480, 704)
    assert p.scale_xy == (720 / 704, 477 / 480)


def test_prepare_enlarges_the_short_side_then_limits_the_long_side():
    big = ppocr.prepare(np.zeros((480, 640, 3), np.uint8), 736).tensor
    assert big.shape[2:] == (736, 992)  # 480 → 736, 640 × 1.533 = 981 → 992
    capped = ppocr.prepare(np.zeros((1000, 4000, 3), np.uint8), 736, 2000).tensor
    assert capped.shape[2:] == (512, 1984)  # 2000 / 32 = 62.5, rounded to even: 62 × 32
    assert ppocr.prepare(np.zeros((800, 900, 3), np.uint8), 736).tensor.shape[2:] == (800, 896)


def test_normalisation_is_bgr_around_one_half():
    image = np.zeros((32, 32, 3), np.uint8)
    image[..., 0] = 255  # pure red
    x = ppocr.normalize(image[None])
    assert x[0, 2].max() == 1.0 and x[0, 0].max() == -1.0  # red is the last BGR channel


def test_prepare_refuses_an_image_without_pixels():
    import pytest

    from perception.errors import PerceptionError

    for shape in ((0, 0, 3), (0, 40, 3), (40, 0, 3)):
        with pytest.raises(PerceptionError, match="expected an image with pixels"):
            ppocr.prepare(np.zeros(shape, np.uint8))
