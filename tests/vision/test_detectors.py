"""Detector tests with the real PP-OCRv4 weights and a small random MENTOR checkpoint."""

from pathlib import Path

import numpy as np
import pytest
import torch

from perception.vision import weights
from perception.vision.api import VisionOptions, load_detector
from perception.vision.mentor import Mentor, MentorConfig
from perception.vision.script_id import ScriptIdNet
from perception.vision.synth import render_scene
from perception.vision.types import UNKNOWN_LANGUAGE

pytestmark = pytest.mark.model
CODES = ["en", "ar", "zh"]


@pytest.fixture(scope="module")
def random_checkpoint(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    cfg = MentorConfig(embed_dim=8, templates_per_language=4)
    path = tmp_path_factory.mktemp("ckpt") / "m.pt"
    weights.save(
        path, weights.Checkpoint(Mentor(cfg).eval(), CODES, ScriptIdNet(3).eval(), CODES, {})
    )
    return path


@pytest.fixture(scope="module")
def scene():
    return render_scene(11, ["en", "ar", "zh"], (320, 256))


@pytest.mark.parametrize("name", ["ppocr", "mentor", "script-id"])
def test_blank_image_gives_no_regions(store, random_checkpoint, name):
    opts = VisionOptions(detector=name, weights=str(random_checkpoint), languages=tuple(CODES))
    det = load_detector(opts, store)
    assert det.detect(np.full((256, 320, 3), 200, np.uint8)) == []


@pytest.mark.parametrize("name", ["ppocr", "mentor", "script-id"])
def test_regions_inside_image_with_known_labels(store, random_checkpoint, scene, name):
    image, gt = scene
    opts = VisionOptions(detector=name, weights=str(random_checkpoint), languages=tuple(CODES))
    regions = load_detector(opts, store).detect(image)
    assert regions, "PP-OCRv4 should find rendered words"
    assert [r.score for r in regions] == sorted((r.score for r in regions), reverse=True)
    for r in regions:
        pts = np.asarray(r.polygon_px)
        assert (pts >= 0).all() and (pts[:, 0] < 320).all() and (pts[:, 1] < 256).all()
        assert r.language in CODES + [UNKNOWN_LANGUAGE]
        assert 0.0 <= r.score <= 1.0 and 0.0 <= r.language_score <= 1.0


def test_torch_and_onnxruntime_runtimes_agree(store, random_checkpoint, scene):
    image, _ = scene
    opts = VisionOptions(detector="mentor", weights=str(random_checkpoint), languages=tuple(CODES))
    a = load_detector(opts, store).detect(image)
    b = load_detector(VisionOptions(**{**opts.__dict__, "runtime": "torch"}), store).detect(image)
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        assert np.abs(np.subtract(ra.polygon_px, rb.polygon_px)).max() < 2.0
        assert ra.language == rb.language


def test_wrong_image_type_says_what_is_expected(store):
    det = load_detector(VisionOptions(detector="ppocr"), store)
    with pytest.raises(ValueError, match="uint8"):
        det.detect(np.zeros((32, 32, 3), np.float32))


def test_latin_regions_are_read_and_other_scripts_say_no_reader_is_installed(
    store, random_checkpoint
):
    from perception.eval.detection import match_image
    from perception.eval.wer import count_errors

    image, gt = render_scene(5, ["en"], (480, 320))
    regions = load_detector(VisionOptions(detector="ppocr"), store).detect(image)
    m = match_image([g.polygon_px for g in gt], [g.dont_care for g in gt],
                    [r.polygon_px for r in regions])  # fmt: skip
    read = [(gt[i].text, regions[j]) for i, j in m.pairs]
    assert read and all(r.reader == "ppocr-v4-rec" and 0 < r.text_score <= 1 for _, r in read)
    counts = [count_errors(t, r.text, unit="char") for t, r in read]
    assert sum(c.edits for c in counts) / sum(c.words for c in counts) < 0.2
    # a language whose script the reader does not cover gets a note instead of text
    opts = VisionOptions(detector="script-id", weights=str(random_checkpoint), languages=("ar",))
    det = load_detector(opts, store)
    from perception.vision.recognizer import LineOutput

    out = LineOutput(torch.zeros(1, 960), (("garbage", 0.4),))
    assert det.reading(out, 0, "ar").note.startswith("no reader installed for the arabic")
    assert det.reading(out, 0, "zh").text == "garbage"
    assert det.reading(out, 0, "unknown").reader == "ppocr-v4-rec"
