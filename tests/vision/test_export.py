"""ONNX parity: exported graphs on onnxruntime vs torch, within stated tolerances."""

import numpy as np
import onnxruntime as ort
import pytest
import torch

from perception.vision import ppocr
from perception.vision.export import export_detector, export_finder_graph
from perception.vision.mentor import Mentor, MentorConfig

# Text Finder: four 3x3 convs + dynamic 1x1s in float32; 1e-4 absolute on logits of order 1.
FINDER_ATOL = 1e-4


def test_text_finder_onnx_matches_torch_for_any_language_count(tmp_path):
    torch.manual_seed(0)
    mentor = Mentor(MentorConfig(channels=16, dynamic_hidden=4, code_dim=16)).eval()
    path = export_finder_graph(mentor, tmp_path / "tf.onnx")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n_lang, batch in [(1, 1), (5, 4)]:
        rng = np.random.default_rng(n_lang)
        crops = rng.random((batch, 1, 32, 128)).astype(np.float32)
        k = rng.standard_normal((n_lang, mentor.cfg.kernel_size)).astype(np.float32)
        with torch.no_grad():
            ref = mentor(torch.from_numpy(crops), torch.from_numpy(k)).numpy()
        got = sess.run(None, {"crops": crops, "kernels": k})[0]
        assert got.shape == (batch, n_lang + 1)
        np.testing.assert_allclose(got, ref, atol=FINDER_ATOL)


@pytest.mark.model
def test_detector_onnx_matches_original_graph(tmp_path, store):
    path = export_detector(tmp_path, store)
    x = np.random.default_rng(0).standard_normal((1, 3, 96, 128)).astype(np.float32)
    ours = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    ref = ppocr.OrtBackbone(store.resolve("ppocr-v4-det"))(x)
    # probabilities: 1e-4 absolute; features (unbounded, magnitudes ~10): 1e-2 absolute
    np.testing.assert_allclose(ours[0], ref[0], atol=1e-4)
    np.testing.assert_allclose(ours[1], ref[1], atol=1e-2)
    assert (tmp_path / "detector.json").is_file()
