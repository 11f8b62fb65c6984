import numpy as np

from perception.vision import ppocr


def test_prepare_rounds_to_32_and_records_scale():
    p = ppocr.prepare(np.zeros((477, 720, 3), np.uint8))
    assert p.tensor.shape == (1, 3, 480, 704)
    assert p.scale_xy == (720 / 704, 477 / 480)


def test_prepare_limits_long_side_and_enlarges_short_side():
    assert ppocr.prepare(np.zeros((1000, 2000, 3), np.uint8), 960).tensor.shape[2:] == (480, 960)
    big = ppocr.prepare(np.zeros((480, 640, 3), np.uint8), 2000, 736).tensor
    assert big.shape[2] == 736 and big.shape[3] == 992
