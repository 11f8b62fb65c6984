import json

import pytest

from perception.cli import build_parser, main
from tests.conftest import REPO, SAMPLE_WAV


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


def test_bag_info_names_each_topics_pipeline_and_eval_checks_the_choice(tmp_path, capsys):
    import numpy as np

    from perception.bag.robot_sample import STYLES, write_robot_bag
    from perception.bag.sample import START_NS

    frames = ((START_NS, np.zeros((16, 16, 3), np.uint8)),)
    write_robot_bag(tmp_path / "r", STYLES["robot"], np.zeros(16000, np.int16), frames)
    assert main(["bag", "info", str(tmp_path / "r")]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[2:]}
    assert rows["/audio"].split()[1:3] == ["audio_common_msgs/msg/AudioStamped", "16"]
    assert rows["/audio"].endswith("speech") and "bag" in rows["/audio"].split()
    assert rows["/camera/color/image_raw/compressed"].endswith("text detection")
    assert rows["/imu/data"].split()[2:4] == ["50", "50.0"]
    assert rows["/imu/data"].endswith("no pipeline for this topic")
    code = main(["eval", str(tmp_path / "r"), "--audio-topic", "/imu/data"])
    assert code == 2
    assert "--audio-topic /imu/data is sensor_msgs/msg/Imu" in capsys.readouterr().err


@pytest.mark.model
def test_transcribe_counts_empty_and_damaged_wavs_as_failed(capsys):
    bad = REPO / "tests" / "faults" / "data"
    files = [bad / "pocketsphinx_null.wav", bad / "pocketsphinx_awful.wav", SAMPLE_WAV]
    code = main(["transcribe", *map(str, files), "--json", "--device", "cpu"])
    captured = capsys.readouterr()
    null, awful, ok = (json.loads(line) for line in captured.out.splitlines())
    assert code == 1
    assert "holds no samples" in null["error"] and "1092676 Hz" in awful["error"]
    assert ok["realtime_factor"] is not None and 0 < ok["realtime_factor"] < 100
    assert captured.err.count("perception transcribe: ") == 2
