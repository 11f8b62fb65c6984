"""``perception export`` end to end on the small models: files, manifests, plan, summary."""

import json

import pytest

from perception.cli import main
from perception.export.manifest import read_manifest
from perception.export.profiles import load_profile
from perception.export.run import run_export
from perception.models.store import sha256_file

# probabilities (VAD, detector map) in [0, 1]: float32 graphs vs their references
PROB_ATOL = 1e-4


@pytest.mark.model
def test_jetson_export_writes_graphs_checks_manifests_and_the_engine_plan(tmp_path, capsys):
    out = tmp_path / "jetson"
    code = main(["export", "--target", "jetson-orin-nano", "--out", str(out),
                 "--models", "vad,detector"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "[1/2] vad" in printed and "[2/2] detector" in printed and "import tensorrt" in printed
    assert "| model | graph |" in printed
    for name in ("silero_vad.onnx", "detector.onnx"):
        manifest = read_manifest(out / name)
        assert manifest.sha256 == sha256_file(out / name) and manifest.kind == "onnx"
        assert manifest.trtexec.startswith(f"trtexec --onnx={name}")
        assert "--fp16" in manifest.trtexec and "--useDLACore" not in manifest.trtexec
        assert manifest.rebuild.startswith("perception export --target jetson-orin-nano")
    detector = read_manifest(out / "detector.onnx")
    assert detector.inputs["x"][2:] == ("height", "width")
    assert detector.profiles["x"].max == (1, 3, 1280, 1280)
    plan = (out / "build_engines.sh").read_text().splitlines()
    assert sum(line.startswith("trtexec ") for line in plan) == 2
    detector_checks = json.loads((out / "checks.json").read_text())["detector"]
    assert detector_checks["checker"] == "ok" and detector_checks["unsupported"]["10.15"] == []
    assert not list(out.glob("*.engine"))  # nothing claims an engine here


@pytest.mark.model
def test_cpu_int8_export_measures_each_graph_against_its_reference(tmp_path):
    results = run_export(load_profile("cpu"), tmp_path, ("vad", "detector"), "int8",
                         say=lambda _: None)  # fmt: skip
    graphs = {g.graph: g for r in results for g in r.graphs}
    assert graphs["silero_vad"].parity < PROB_ATOL and graphs["detector"].parity < PROB_ATOL
    detector = graphs["detector"]
    assert detector.int8_file == "detector.int8.onnx" and (tmp_path / detector.int8_file).is_file()
    assert detector.int8_parity is not None and detector.int8_parity > detector.parity
    assert detector.engine == "onnxruntime target" and not (tmp_path / "build_engines.sh").exists()


def _relu_graph(folder):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    from perception.export.graphs import Graph

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    path = folder / "relu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    feeds = {"x": np.array([-1.0, 2.0], np.float32)}
    return Graph("detector", "relu", path, path, feeds, lambda p: 0.0, "itself")


def test_a_failing_model_is_reported_and_the_others_still_export(tmp_path, monkeypatch, capsys):
    from perception.errors import PerceptionError
    from perception.export import graphs

    def broken(out, store):
        raise PerceptionError("weights are missing")

    monkeypatch.setitem(graphs.EXPORTERS, "vad", broken)
    monkeypatch.setitem(graphs.EXPORTERS, "detector", lambda out, store: [_relu_graph(out)])
    code = main(["export", "--target", "x86-ampere", "--out", str(tmp_path),
                 "--models", "vad,detector"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 1 and "vad: failed: weights are missing" in printed
    assert read_manifest(tmp_path / "relu.onnx").kind == "onnx"
    assert (tmp_path / "build_engines.sh").read_text().count("trtexec --onnx=relu.onnx") == 1


def test_static_int8_is_calibrated_qdq_close_to_fp32(tmp_path):
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch

    from perception.export.run import quantize_static

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.Conv2d(8, 1, 3, padding=1), torch.nn.Sigmoid())  # fmt: skip
    path = tmp_path / "net.onnx"
    torch.onnx.export(net.eval(), (torch.zeros(1, 3, 16, 16),), str(path), input_names=["x"],
                      opset_version=11, dynamo=False)  # fmt: skip
    rng = np.random.default_rng(0)
    batches = [{"x": rng.standard_normal((1, 3, 16, 16)).astype(np.float32)} for _ in range(8)]
    target = quantize_static(path, batches)
    ops = {n.op_type for n in onnx.load(str(target)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    x = {"x": rng.standard_normal((1, 3, 16, 16)).astype(np.float32)}
    fp32, int8 = (ort.InferenceSession(str(p)).run(None, x)[0] for p in (path, target))
    assert 0 < np.abs(fp32 - int8).max() < 0.05  # quantised, and within 5% of the [0, 1] range
