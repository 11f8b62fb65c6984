"""Calibration files: written, found by the models' checksums, loaded by default, warned about."""

import warnings

import pytest

from perception.speech import calibration
from perception.speech.calibration import CalibrationFile


def _file(asr_sha="a" * 64, llm_sha="b" * 64) -> CalibrationFile:
    return CalibrationFile(
        asr_model="whisper-x",
        asr_sha256=asr_sha,
        llm_model="llm-y",
        llm_sha256=llm_sha,
        asr_temperature=0.8,
        llm_temperature=1.1,
        static_weight=0.25,
        acceptance_margin=0.2,
        fitted_on={"data": "test"},
    )


def test_written_file_is_found_only_for_the_same_checksums(tmp_path):
    path = calibration.write(_file(), tmp_path)
    assert path.name == "whisper-x+llm-y.json"
    assert calibration.find("a" * 64, "b" * 64, [tmp_path]) == _file()
    assert calibration.find("a" * 64, "c" * 64, [tmp_path]) is None


def test_bundled_pair_loads_by_default(store):
    """The shipped file matches the bundled Whisper + LLM cards' pinned checksums."""
    cal = calibration.find(
        calibration.model_fingerprint("whisper-tiny.en", store),
        calibration.model_fingerprint("smollm2-135m-instruct", store),
        [calibration.BUNDLED_DIR],
    )
    assert cal is not None, "run `perception asr-eval` and ship its calibration file"
    assert 0.1 <= cal.asr_temperature <= 10 and -10 <= cal.acceptance_margin <= 10
    assert cal.fitted_on["dataset_version"] >= 2


def test_a_pair_without_a_file_warns_once_and_names_the_command(tmp_path, monkeypatch, store):
    monkeypatch.setenv("PERCEPTION_HOME", str(tmp_path))
    model = tmp_path / "my-whisper.pt"
    model.write_bytes(b"not the bundled weights")
    monkeypatch.setattr(calibration, "BUNDLED_DIR", tmp_path / "none")
    with pytest.warns(UserWarning, match="perception speech calibrate"):
        assert calibration.lookup(str(model), "smollm2-135m-instruct", store) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert calibration.lookup(str(model), "smollm2-135m-instruct", store) is None
