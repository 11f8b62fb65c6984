"""The vision CLI on a rendered scene: text, JSON and drawings."""

import json

import pytest
from PIL import Image

from perception.cli import main
from perception.vision.synth import render_scene

pytestmark = pytest.mark.model


@pytest.fixture
def scene_file(tmp_path):
    image, _ = render_scene(5, ["en", "zh", "ar"], (640, 480))
    path = tmp_path / "scene.png"
    Image.fromarray(image).save(path)
    return path


def test_detect_json_and_draw(tmp_path, scene_file, capsys):
    out = tmp_path / "drawn"
    code = main(["detect", str(scene_file), "--detector", "ppocr", "--json", "--draw", str(out)])
    assert code == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert record["path"] == str(scene_file) and record["regions"]
    assert record["mode"] == "detect" and record["regions"][0]["mode"] == "detect"
    assert (out / "scene.png").is_file()


def test_detect_json_says_when_the_whole_image_was_read(tmp_path, scene_file, capsys):
    argv = ["detect", str(scene_file), "--detector", "ppocr", "--json", "--whole-image", "always"]
    assert main(argv) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert record["mode"] == "whole-image" and len(record["regions"]) == 1


def test_missing_file_is_reported_and_exit_code_one(tmp_path, scene_file, capsys):
    code = main(["detect", str(tmp_path / "nope.png"), str(scene_file), "--detector", "ppocr"])
    assert code == 1
    captured = capsys.readouterr()
    assert "nope.png" in captured.err and "scene.png" in captured.out


def test_languages_add_then_list(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PERCEPTION_HOME", str(tmp_path))
    font = "/usr/share/fonts/truetype/noto/NotoSansLao-Regular.ttf"
    assert main(["languages", "add", "lo", "--font", font, "--chars", "ກ-ຮ"]) == 0
    assert main(["languages", "list"]) == 0
    assert any(
        line.startswith("lo ") and "added" in line for line in capsys.readouterr().out.splitlines()
    )
