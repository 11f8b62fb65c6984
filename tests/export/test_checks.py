"""Graph checks on small graphs built here: op support per release, pitfalls, folding."""

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper

from perception.export.checks import check_graph, load_op_tables, table_for
from perception.export.manifest import Shapes


def test_op_table_has_its_source_and_both_releases():
    tables = load_op_tables()
    assert {"8.5", "10.15"} <= set(tables)
    assert "LayerNormalization" in tables["8.5"].unsupported
    assert "LayerNormalization" in tables["10.15"].supported
    assert not tables["8.5"].supported & tables["8.5"].unsupported
    from perception.export.checks import OPS_TABLE

    assert "onnx/onnx-tensorrt" in OPS_TABLE.read_text()


def test_nearest_release_at_or_below():
    tables = load_op_tables()
    assert table_for("8.6", tables).version == "8.5"
    assert table_for("10.3", tables).version == "8.5"
    assert table_for("10.15.1", tables).version == "10.15"
    assert table_for("7.1", tables).version == "8.5"  # nothing older listed: the oldest


class Block(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.ln = torch.nn.LayerNorm(8)
        self.fc = torch.nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(self.ln(x)) * (torch.ones(8) * 2)  # a constant expression to fold


def test_layernorm_graph_is_flagged_for_tensorrt_85_only(tmp_path):
    path = tmp_path / "block.onnx"
    axes = {"x": {0: "batch"}}
    torch.onnx.export(Block().eval(), (torch.zeros(2, 8),), str(path), input_names=["x"],
                      dynamic_axes=axes, opset_version=17, dynamo=False)  # fmt: skip
    feeds = {"x": np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)}
    report = check_graph(path, {"x": Shapes((1, 8), (4, 8), (16, 8))}, feeds=feeds)
    assert report.checker == "ok" and report.shape_inference == "ok"
    assert report.unsupported["8.5"] == ("LayerNormalization",)
    assert report.unsupported["10.15"] == ()
    assert report.folded and report.nodes_after_folding <= report.nodes
    assert report.pitfalls == ()


def test_pitfalls_int64_input_missing_profile_and_data_dependent_op(tmp_path):
    x = helper.make_tensor_value_info("ids", TensorProto.INT64, ["n"])
    y = helper.make_tensor_value_info("where", TensorProto.INT64, [1, None])
    graph = helper.make_graph([helper.make_node("NonZero", ["ids"], ["where"])], "g", [x], [y])
    path = tmp_path / "nz.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    report = check_graph(path, {})
    text = " ".join(report.pitfalls)
    assert "ids is INT64" in text and "no min/opt/max" in text and "NonZero" in text


def test_an_invalid_graph_fails_the_checker(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    graph = helper.make_graph(
        [helper.make_node("NoSuchOp", ["x"], ["y"])],
        "g",
        [x],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
    )
    path = tmp_path / "bad.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    report = check_graph(path, {"x": Shapes((2,), (2,), (2,))})
    assert report.checker.startswith("failed")
    assert "NoSuchOp" in report.unsupported["10.15"]


def test_folding_is_refused_when_outputs_change(tmp_path, monkeypatch):
    from perception.export import checks

    path = tmp_path / "block.onnx"
    torch.onnx.export(Block().eval(), (torch.zeros(2, 8),), str(path), input_names=["x"],
                      opset_version=17, dynamo=False)  # fmt: skip
    before = path.read_bytes()
    monkeypatch.setattr(checks, "FOLD_ATOL", -1.0)  # no output is within a negative tolerance
    assert not checks.fold(path, {"x": np.ones((2, 8), np.float32)})
    assert path.read_bytes() == before
