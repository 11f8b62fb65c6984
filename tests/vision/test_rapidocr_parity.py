"""Our PP-OCRv4 path against rapidocr's own pipeline (the reference) on real photos: the same
boxes from the detector, the same text from the recogniser on the same crops."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from perception.eval.detection import iou
from perception.vision.api import VisionOptions, load_detector
from perception.vision.recognizer import MAX_RATIO, LineRecognizer, line_crop

rapidocr = pytest.importorskip(
    "rapidocr_onnxruntime", reason="scripts/setup.sh installs rapidocr-onnxruntime (--no-deps)"
)
pytestmark = pytest.mark.model
PHOTOS = sorted((Path(__file__).parents[1] / "data" / "photos").glob("*.jp*"))


@pytest.fixture(scope="module")
def reference():
    return rapidocr.RapidOCR()


def test_detector_returns_rapidocrs_boxes(reference, store):
    ours = load_detector(VisionOptions(detector="ppocr", max_side_px=0, read_text=False), store)
    assert len(PHOTOS) == 13
    for path in PHOTOS:
        bgr = cv2.imread(str(path))
        boxes, _ = reference.text_det(bgr)
        found = [
            np.asarray(r.polygon_px) for r in ours.detect(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        ]
        assert len(found) == len(boxes), path.name
        free = list(range(len(found)))
        for box in boxes:  # one-to-one, each at IoU >= 0.9
            best = max(free, key=lambda j: iou(box, found[j]))
            assert iou(box, found[best]) >= 0.9, (path.name, box)
            free.remove(best)


def test_recogniser_reads_what_rapidocr_reads_on_the_same_crops(reference, store):
    ours = LineRecognizer(store)
    compared = 0
    for path in PHOTOS[::3]:
        bgr = cv2.imread(str(path))
        boxes, _ = reference.text_det(bgr)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        for box in boxes:
            crop = line_crop(rgb, np.float32(box))
            np.testing.assert_array_equal(
                crop[..., ::-1], reference.get_crop_img_list(bgr, [box])[0]
            )
            if crop.shape[1] / crop.shape[0] > MAX_RATIO:
                continue  # we squeeze lines this long; rapidocr does not
            ((text, score),) = reference.text_rec([crop[..., ::-1]])[0]
            got_text, got_score = ours([crop]).texts[0]
            assert got_text == text and got_score == pytest.approx(score, abs=0.01), path.name
            compared += 1
    assert compared > 100
