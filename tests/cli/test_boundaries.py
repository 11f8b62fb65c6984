"""The command line's boundary rule: a user's mistake is one line and exit 2, a bad input among
many is counted (exit 1) while the rest go on, anything else is one line and exit 3."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from perception.bag.io import BagWriter, image_msg
from perception.cli import main
from perception.vision.types import TextRegion
from tests.conftest import SAMPLE_WAV


class OneBoxDetector:
    """Test stand-in (not a model): one fixed box per image."""

    def detect(self, image: np.ndarray) -> list[TextRegion]:
        return [TextRegion(((0.0, 0.0), (4.0, 0.0), (4.0, 2.0), (0.0, 2.0)), 0.9, "en")]


def _one_line_error(capsys, code: int, expected_code: int, text: str) -> None:
    err = capsys.readouterr().err
    assert code == expected_code, err
    assert text in err and "Traceback" not in err and err.count("\n") == 1, err


def test_detect_counts_a_decompression_bomb_and_reads_the_next_image(
    tmp_path, monkeypatch, capsys
):
    from perception.cli import detect_cmd

    monkeypatch.setattr(detect_cmd, "load_detector", lambda options: OneBoxDetector())
    bomb, good = tmp_path / "bomb.png", tmp_path / "good.png"
    Image.new("1", (20000, 20000)).save(bomb)  # 400 M pixels in a 50 KB file
    Image.new("RGB", (8, 8)).save(good)
    code = main(["detect", str(bomb), str(good), "--json"])
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert "(400000000 pixels) exceeds limit" in out[0]["error"]
    assert len(out[1]["regions"]) == 1


def test_detect_with_an_unknown_language_is_a_one_line_error(tmp_path, capsys):
    image = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(image)
    code = main(["detect", str(image), "--languages", "en,xx"])
    _one_line_error(capsys, code, 2, "languages ['xx'] are not in the registry")


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks the message on a machine without GPU"
)
def test_transcribe_on_cuda_without_a_gpu_is_a_one_line_error(capsys):
    code = main(["transcribe", str(SAMPLE_WAV), "--device", "cuda"])
    _one_line_error(capsys, code, 2, "sees no CUDA GPU; use --device cpu or auto")


@pytest.fixture
def small_bag(tmp_path):
    with BagWriter(tmp_path / "bag", "sqlite3") as bag:
        bag.write("/camera/image_raw", image_msg(bag, np.zeros((8, 8, 3), np.uint8), 1, "c"), 1)
    return tmp_path / "bag"


NO_MODELS = ["--skip", "speech", "--skip", "vision"]


def test_eval_with_a_missing_config_file_is_a_one_line_error(small_bag, tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    code = main(["eval", str(small_bag), "--config", str(missing), "--out", str(tmp_path / "o")])
    _one_line_error(capsys, code, 2, f"config file {missing} does not exist")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("speech: [unclosed", "not valid YAML"),
        ("speech:\n  asr:\n    beem_size: 2\n", "beem_size"),
    ],
)
def test_eval_with_a_bad_config_is_a_one_line_error(small_bag, tmp_path, capsys, text, why):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    code = main(["eval", str(small_bag), "--config", str(config), "--out", str(tmp_path / "o")])
    _one_line_error(capsys, code, 2, why)


def test_eval_with_a_bad_gt_file_is_a_one_line_error(small_bag, tmp_path, capsys):
    gt = tmp_path / "gt.json"
    gt.write_text("{'images': []}")
    code = main(["eval", str(small_bag), "--gt", str(gt), *NO_MODELS, "--out", str(tmp_path)])
    _one_line_error(capsys, code, 2, "ground truth is not valid JSON")


def test_an_unexpected_exception_is_one_line_and_exit_3(monkeypatch, capsys):
    from perception.cli import doctor_cmd

    def broken(args):
        raise KeyError("boom")

    monkeypatch.setattr(doctor_cmd, "_run", broken)  # bound when main builds the parser
    code = main(["doctor"])
    _one_line_error(capsys, code, 3, "internal error: KeyError: 'boom'")
