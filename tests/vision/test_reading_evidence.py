"""The reading as evidence for a region's language: scripts of read text, the fusion rule, and
the bundled calibration on a real photo."""

import json

import numpy as np
import pytest

from perception.errors import ConfigError
from perception.vision.reading_evidence import (
    FUSION_FILE,
    ReadingFusion,
    char_script,
    load_fusion,
    script_shares,
)

SCRIPTS = ["latin", "cherokee", "han", "common"]


def test_characters_map_to_the_readers_scripts():
    assert [char_script(c) for c in "Aé中7-Ꭰ"] == [
        "latin",
        "latin",
        "han",
        "common",
        "common",
        "other",
    ]
    assert char_script("Ａ") == "latin"  # full-width forms count as their ordinary ones
    shares = script_shares("PB 13")
    assert shares["latin"] == pytest.approx(0.5) and shares["common"] == pytest.approx(0.5)


def test_a_confident_latin_reading_outweighs_a_cherokee_shape_score():
    prob = np.array([[0.08, 0.80, 0.02, 0.02, 0.08]])  # last column: "unknown"
    fused = ReadingFusion(4.0, 0.0, 0.9).fuse(prob, [("PASS", 0.99)], SCRIPTS)
    assert fused[0].argmax() == 0 and fused.sum() == pytest.approx(1.0)


def test_unsure_or_empty_readings_and_weight_zero_leave_mentor_alone():
    prob = np.array([[0.1, 0.7, 0.1, 0.05, 0.05]])
    fusion = ReadingFusion(4.0, 0.0, 0.9)
    assert np.allclose(fusion.fuse(prob, [("PASS", 0.6)], SCRIPTS), prob)
    assert np.allclose(fusion.fuse(prob, [("", 1.0)], SCRIPTS), prob)
    assert ReadingFusion().fuse(prob, [("PASS", 1.0)], SCRIPTS) is prob


def test_languages_without_a_reader_get_no_evidence():
    ev = ReadingFusion(2.0, 0.5, 0.0).evidence([("中文", 1.0)], SCRIPTS)
    assert ev[0, 1] == 0 and ev[0, 2] == pytest.approx(1.0) and ev[0, 0] == pytest.approx(-1.0)


def test_bad_values_are_refused_and_the_bundled_calibration_loads(tmp_path):
    with pytest.raises(ConfigError, match="floor"):
        ReadingFusion(1.0, 2.0)
    assert load_fusion(tmp_path / "missing.json") == ReadingFusion()
    doc = json.loads(FUSION_FILE.read_text())
    assert load_fusion() == ReadingFusion(doc["weight"], doc["floor"], doc["min_conf"])
    assert load_fusion().weight > 0


@pytest.mark.model
def test_latin_capitals_on_a_real_boarding_pass_are_named_latin_not_cherokee():
    from perception.vision.api import VisionOptions, load_detector
    from perception.vision.photos import PHOTOS, _read_rgb, script_of

    image = _read_rgb(PHOTOS / "paddleocr_00006737.jpg")

    def named(evidence: bool) -> dict[str, str]:
        det = load_detector(VisionOptions(threads=1, reading_evidence=evidence))
        return {r.text: script_of(r.language) for r in det.detect(image) if r.text}

    fused = named(True)
    assert fused.get("BOARDING") == "latin" and fused.get("PASS") == "latin"
    # MENTOR alone names these capitals Cherokee, so they are not even read
    assert named(False).get("BOARDING") != "latin"
