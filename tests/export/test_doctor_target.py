"""``perception doctor --target``: what a target needs, held against this machine."""

import dataclasses
import json

from perception.cli import main
from perception.doctor import engine_checks, target_checks
from perception.export.manifest import Machine
from perception.export.profiles import load_profile
from tests.export.test_manifest import ORIN, engine_manifest


def _by_name(checks):
    return {c.name: c for c in checks}


def test_jetson_target_names_tensorrt_range_and_gpu(monkeypatch):
    from perception.export import tensorrt

    monkeypatch.setattr(tensorrt, "machine_here", lambda: Machine())
    checks = _by_name(target_checks(load_profile("jetson-orin-nano")))
    assert checks["tensorrt"].state == "missing" and "8.6 to 10.3" in checks["tensorrt"].detail
    assert checks["gpu"].state == "missing" and "sm_87" in checks["gpu"].detail


def test_the_right_machine_passes_and_a_wrong_gpu_fails(monkeypatch):
    from perception.export import tensorrt

    monkeypatch.setattr(tensorrt, "machine_here", lambda: ORIN)
    checks = _by_name(target_checks(load_profile("jetson-agx-orin")))
    assert checks["tensorrt"].state == checks["gpu"].state == "ok"
    assert "DLA core 0" in checks["builder"].detail
    ampere = dataclasses.replace(ORIN, gpu_name="RTX A4000", compute_capability="sm_86")
    monkeypatch.setattr(tensorrt, "machine_here", lambda: ampere)
    assert _by_name(target_checks(load_profile("jetson-agx-orin")))["gpu"].state == "failed"


def test_engines_folder_is_checked_by_manifest(tmp_path):
    engine_manifest(tmp_path)
    (ok,) = engine_checks(tmp_path, ORIN)
    (bad,) = engine_checks(tmp_path, Machine("8.6.2", "12.2", "Orin", "sm_87"))
    assert ok.state == "ok" and bad.state == "failed" and "rebuild" in bad.detail


def test_cli_target_json(capsys):
    assert main(["doctor", "--json", "--target", "cpu"]) == 0
    groups = {c["group"] for c in json.loads(capsys.readouterr().out)}
    assert "target:cpu" in groups
