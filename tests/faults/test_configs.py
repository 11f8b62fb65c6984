"""Malformed and adversarial YAML at every loader (the stack's config, the eval config, launch
files), and a full disk while the report is written."""

from __future__ import annotations

import errno
import json
import time
from pathlib import Path

import numpy as np
import pytest

from perception.bag.io import BagWriter, image_msg
from perception.errors import ConfigError

pytestmark = pytest.mark.faults

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def _documents(tmp_path: Path) -> dict[str, str | bytes]:
    return {
        "unclosed bracket": "speech: [unclosed\n",
        "tab indentation": "speech:\n\tasr:\n\t\tbeam_size: 2\n",
        "python tag": f"speech: !!python/object/apply:os.mkdir [{tmp_path / 'pwned'}]\n",
        "billion laughs": LAUGHS + "speech: *i\n",
        "nested 100000 deep": "speech: " + "[" * 100_000 + "\n",
        "not utf-8": b"speech:\n  fusion: \xff\xfe\n",
        "a list": "- speech\n- vision\n",
        "a scalar": "42\n",
        "unknown section": "speeech: {}\n",
        "misspelled field": "speech:\n  asr:\n    beem_size: 2\n",
        "wrong type": "speech:\n  asr:\n    beam_size: five\n",
        "out of range": "speech:\n  vad:\n    threshold: 1.5\n",
        "nan where a range is checked": "speech:\n  vad:\n    threshold: .nan\n",
        "infinite int": "speech:\n  asr:\n    beam_size: .inf\n",
        "over 1 MB": "# padding\n" * 120_000,
    }


def _load_stack_config(path: Path) -> None:
    from perception.settings import load_config

    load_config(path)


def _load_eval_config(path: Path) -> None:
    from perception.bag.run import speech_options

    speech_options(path)


def _load_launch_file(path: Path) -> None:
    from perception.ros.launch_file import load_launch

    load_launch(path, {})


LOADERS = {"stack": _load_stack_config, "eval": _load_eval_config, "launch": _load_launch_file}
CASES = list(_documents(Path("/tmp")))


@pytest.mark.parametrize("loader", list(LOADERS))
@pytest.mark.parametrize("case", CASES)
def test_every_bad_yaml_is_one_config_error(tmp_path, ledger, loader, case):
    doc = _documents(tmp_path)[case]
    path = tmp_path / "file.yaml"
    path.write_bytes(doc if isinstance(doc, bytes) else doc.encode())
    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        LOADERS[loader](path)
    assert time.perf_counter() - start < 10.0
    assert "\n" not in str(info.value)
    assert not (tmp_path / "pwned").exists()  # the safe loader never runs a tag
    ledger.tried(f"yaml ({loader})", "refused")


@pytest.mark.parametrize("loader", list(LOADERS))
@pytest.mark.parametrize("kind", ["missing", "a folder"])
def test_a_path_that_is_not_a_file_is_one_config_error(tmp_path, ledger, loader, kind):
    path = tmp_path / "cfg.yaml"
    if kind == "a folder":
        path.mkdir()
    with pytest.raises(ConfigError, match=str(path)):
        LOADERS[loader](path)
    ledger.tried(f"yaml ({loader})", "refused")


@pytest.mark.parametrize("case", ["python tag", "billion laughs", "not utf-8", "a list"])
def test_the_commands_answer_a_bad_config_in_one_line(tmp_path, ledger, case, capsys):
    from perception.cli import main

    config = tmp_path / "bad.yaml"
    doc = _documents(tmp_path)[case]
    config.write_bytes(doc if isinstance(doc, bytes) else doc.encode())
    image = tmp_path / "a.png"
    from PIL import Image

    Image.new("RGB", (4, 4)).save(image)
    for argv in (
        ["transcribe", str(image), "--config", str(config)],
        ["detect", str(image), "--config", str(config)],
        ["launch", str(config)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        ledger.tried(f"{argv[0]} command (bad yaml)", "refused")


def _tiny_bag(path: Path) -> None:
    with BagWriter(path, "sqlite3") as bag:
        rgb = np.zeros((8, 8, 3), np.uint8)
        bag.write("/camera/image_raw", image_msg(bag, rgb, 1, "c"), 1)


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("failing", ["report.json", "index.html"])
def test_a_full_disk_while_eval_writes_its_report_is_one_line_and_leaves_no_half_json(
    tmp_path, monkeypatch, ledger, capsys, failing
):
    from perception.cli import main

    _tiny_bag(tmp_path / "bag")
    real_write_text = Path.write_text

    def full(self, data, *args, **kwargs):
        if self.name.startswith(failing):
            real_write_text(self, data[: len(data) // 2], *args, **kwargs)  # a partial write
            _no_space()
        return real_write_text(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    out = tmp_path / "out"
    code = main(["eval", str(tmp_path / "bag"), "--skip", "speech", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert f"cannot write the report into {out}: No space left on device" in err
    assert list(out.glob("*.partial")) == []  # no temporary file is left behind
    if (out / "report.json").exists():
        json.loads((out / "report.json").read_text())  # whole, or absent
    ledger.tried("report write (full disk)", "refused")


@pytest.mark.parametrize("failing", ["frames", "plots"])
def test_a_full_disk_while_writing_frames_or_plots_is_a_report_error(
    tmp_path, monkeypatch, ledger, failing
):
    import matplotlib.figure

    from perception.bag import report
    from perception.bag.evaluate import FrameResult, Pipelines, Replay

    replay = Replay(bag="b", frames=[FrameResult(1, (), 5.0, np.zeros((8, 8, 3), np.uint8))])
    pipes = Pipelines(None, None, why_missing={"speech": "off", "vision": "off"})
    summary = report.summarize(replay, pipes)
    if failing == "frames":
        monkeypatch.setattr(report.cv2, "imwrite", lambda *a, **k: False)
    else:
        monkeypatch.setattr(matplotlib.figure.Figure, "savefig", _no_space)
    with pytest.raises(report.ReportError, match="cannot write the report into"):
        report.write_report(tmp_path / "out", replay, summary)
    ledger.tried("report write (full disk)", "refused")
