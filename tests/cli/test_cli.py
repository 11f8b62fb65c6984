import json

import pytest

from perception.cli import build_parser, main
from tests.conftest import SAMPLE_WAV


def _subcommands(parser):
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return action.choices


def test_every_subcommand_has_help(capsys):
    parser = build_parser()
    for name, sub in _subcommands(parser).items():
        assert sub.description or sub.format_help(), name
        with pytest.raises(SystemExit) as done:
            main([name, "--help"])
        assert done.value.code == 0
    assert {"models", "doctor", "transcribe"} <= set(_subcommands(parser))


def test_bad_config_is_a_one_line_error(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("speech:\n  asr:\n    beam_size: 0\n")
    assert main(["transcribe", str(SAMPLE_WAV), "--config", str(cfg)]) == 2
    assert "beam_size must be >= 1, got 0" in capsys.readouterr().err


@pytest.mark.model
def test_transcribe_json_reports_each_file_and_keeps_going(tmp_path, capsys):
    missing = tmp_path / "missing.wav"
    code = main(["transcribe", str(SAMPLE_WAV), str(missing), "--json", "--device", "cpu"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    ok, bad = lines
    assert "charging station" in ok["text"].lower() and ok["fusion"] == "none"
    assert {"model_load", "audio_load_vad", "encode", "beam_search"} <= set(ok["timings_ms"])
    first = ok["utterances"][0]
    assert first["nbest"] and first["start_s"] < first["end_s"] <= ok["audio_duration_s"]
    assert bad == {"path": str(missing), "error": f"audio file {missing} does not exist"}


@pytest.mark.model
def test_models_verify_checks_every_card(capsys):
    assert main(["models", "verify"]) == 0
    out = capsys.readouterr().out
    assert out.count("ok ") >= 7 and "FAILED" not in out


def test_doctor_reports_torch_and_tools(capsys):
    assert main(["doctor", "--json"]) == 0
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
    assert checks["torch"]["state"] == "ok" and "CUDA" in checks["torch"]["detail"]
    assert {"ffmpeg", "espeak-ng", "onnxruntime", "tensorrt"} <= set(checks)
