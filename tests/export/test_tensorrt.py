"""The TensorRT side that runs without TensorRT: trtexec lines, the one-line refusal."""

import importlib.util
from pathlib import Path

import pytest

from perception.export.manifest import Shapes
from perception.export.tensorrt import (
    BuildPlan,
    TensorRTUnavailable,
    build_engine,
    load_engine,
    require_tensorrt,
    trtexec_command,
)

HAS_TRT = importlib.util.find_spec("tensorrt") is not None


def plan(precision="fp16", dla=-1) -> BuildPlan:
    return BuildPlan(
        onnx=Path("/x/detector.onnx"),
        engine=Path("/x/detector.fp16.engine"),
        precision=precision,
        shapes={"x": Shapes((1, 3, 256, 256), (1, 3, 736, 992), (1, 3, 1280, 1280))},
        workspace_mib=1024,
        dla_core=dla,
        timing_cache=Path("/x/timing.cache"),
        calibration_cache=Path("/x/detector.calibration.cache"),
    )


def test_trtexec_line_carries_profile_precision_and_workspace():
    line = trtexec_command(plan())
    assert line.startswith("trtexec --onnx=detector.onnx --saveEngine=detector.fp16.engine")
    assert "--minShapes=x:1x3x256x256" in line and "--maxShapes=x:1x3x1280x1280" in line
    assert "--optShapes=x:1x3x736x992" in line and "--fp16" in line and "--int8" not in line
    assert "--memPoolSize=workspace:1024" in line and "--timingCacheFile=timing.cache" in line


def test_trtexec_int8_and_dla():
    line = trtexec_command(plan("int8", dla=0))
    assert "--int8 --calib=detector.calibration.cache" in line
    assert "--useDLACore=0 --allowGPUFallback" in line


@pytest.mark.skipif(HAS_TRT, reason="TensorRT is installed here: the refusal cannot happen")
def test_without_tensorrt_every_entry_stops_with_one_line(tmp_path):
    with pytest.raises(TensorRTUnavailable) as err:
        require_tensorrt("building detector.fp16.engine")
    assert "\n" not in str(err.value) and "import tensorrt" in str(err.value)
    with pytest.raises(TensorRTUnavailable):
        build_engine(plan())
    assert not (tmp_path / "detector.fp16.engine").exists()


@pytest.mark.skipif(HAS_TRT, reason="TensorRT is installed here")
def test_loading_an_engine_checks_its_manifest_before_tensorrt(tmp_path):
    from perception.export.manifest import ManifestMismatch
    from tests.export.test_manifest import engine_manifest

    _, engine = engine_manifest(tmp_path)
    with pytest.raises(ManifestMismatch, match="this machine has no TensorRT"):
        load_engine(engine)
