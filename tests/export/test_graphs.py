"""MENTOR's Language Mapper graph: a new language's kernel from its templates, without torch."""

import numpy as np
import onnxruntime as ort
import torch

from perception.export.graphs import export_mapper_graph
from perception.vision.mentor import Mentor, MentorConfig

KERNEL_ATOL = 1e-5  # unit-length kernels in float32


def test_language_mapper_graph_gives_torchs_kernel_for_any_template_count(tmp_path):
    torch.manual_seed(0)
    mentor = Mentor(MentorConfig(embed_dim=16)).eval()
    mentor.embed.scaler.fit(torch.randn(64, mentor.cfg.feature_dim) * 2 + 1)
    path = export_mapper_graph(mentor, tmp_path / "language_mapper.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for k in (3, 8, 20):
        templates = torch.randn(k, mentor.cfg.feature_dim)
        (got,) = session.run(None, {"templates": templates.numpy()})
        with torch.no_grad():
            want = mentor.kernels([templates]).numpy()
        assert got.shape == (1, 16)
        np.testing.assert_allclose(got, want, atol=KERNEL_ATOL)
