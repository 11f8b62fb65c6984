"""ONNX export of the hybrid guard net (tiny random BERT): same outputs on onnxruntime."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from perception.llm.guard.export import export_embedder
from perception.llm.guard.features import EMBED_DIM, Hybrid
from perception.llm.guard.finetune import tuned_features

transformers = pytest.importorskip("transformers")
ort = pytest.importorskip("onnxruntime")


class _Fake:
    def __init__(self, net):
        self.net, self.options = net, tuned_features(1)

    def windows(self, text):
        return [[1, *(3 + len(w) % 40 for w in text.split()), 2]]


def test_hybrid_net_exports_with_its_logits_and_matches_torch(tmp_path):
    config = transformers.BertConfig(
        vocab_size=50,
        hidden_size=EMBED_DIM,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    net = Hybrid(transformers.BertModel(config, add_pooling_layer=False), 1, tasks=4).eval()
    path = export_embedder(_Fake(net), tmp_path / "tuned.onnx")
    manifest = json.loads(path.with_suffix(".json").read_text())
    assert manifest["outputs"]["embedding"] == ["batch", EMBED_DIM + 4]
    ids = np.array([[1, 5, 6, 7, 2, 0, 0], [1, 9, 8, 7, 6, 5, 2]], np.int64)  # (B, T)
    mask = (np.arange(7)[None] < np.array([[5], [7]])).astype(np.int64)
    got = ort.InferenceSession(str(path)).run(None, {"input_ids": ids, "attention_mask": mask})[0]
    with torch.no_grad():
        want = net(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    assert got.shape == (2, EMBED_DIM + 4)
    assert np.abs(got - want).max() < 1e-4
