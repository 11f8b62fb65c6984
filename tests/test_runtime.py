"""Execution-provider choice: GPU providers only off the CPU and only when installed."""

import logging

import numpy as np
import onnx
from onnx import TensorProto, helper

from perception.runtime import ort_session, pick_providers

ALL = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


def test_gpu_device_prefers_tensorrt_then_cuda_then_cpu():
    assert pick_providers(ALL, "cuda") == ALL
    assert pick_providers(["CUDAExecutionProvider", "CPUExecutionProvider"], "auto") == ALL[1:]


def test_cpu_device_or_cpu_only_build_gets_cpu():
    assert pick_providers(ALL, "cpu") == ["CPUExecutionProvider"]
    assert pick_providers(["CPUExecutionProvider"], "cuda:0") == ["CPUExecutionProvider"]


def test_session_logs_the_providers_it_got(tmp_path, caplog):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    path = tmp_path / "relu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with caplog.at_level(logging.INFO, logger="perception.runtime"):
        opened = ort_session(path, "auto", threads=1)
    assert "CPUExecutionProvider" in opened.providers and "relu.onnx" in caplog.text
    out = opened.session.run(None, {"x": np.array([-1.0, 2.0], np.float32)})[0]
    np.testing.assert_array_equal(out, [0.0, 2.0])
