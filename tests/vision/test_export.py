"""ONNX parity: exported graphs on onnxruntime vs torch, within stated tolerances."""

import numpy as np
import onnxruntime as ort
import pytest
import torch

from perception.vision import ppocr
from perception.vision.export import export_detector, export_finder_graph, export_recogniser
from perception.vision.mentor import Mentor, MentorConfig
from perception.vision.recognizer import LineRecognizer, line_batch, pool

# Text Finder: a linear embedding and a scaled cosine in float32; logits within +-10.
FINDER_ATOL = 1e-4


def test_text_finder_onnx_matches_torch_for_any_language_count(tmp_path):
    torch.manual_seed(0)
    mentor = Mentor(MentorConfig(embed_dim=16)).eval()
    mentor.embed.scaler.fit(torch.randn(64, mentor.cfg.feature_dim) * 2 + 1)
    path = export_finder_graph(mentor, tmp_path / "tf.onnx")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n_lang, batch in [(1, 1), (5, 4)]:
        rng = np.random.default_rng(n_lang)
        feats = rng.standard_normal((batch, mentor.cfg.feature_dim)).astype(np.float32)
        with torch.no_grad():
            k = mentor.kernels([torch.randn(4, mentor.cfg.feature_dim) for _ in range(n_lang)])
            ref = mentor(torch.from_numpy(feats), k).numpy()
        got = sess.run(None, {"features": feats, "kernels": k.numpy()})[0]
        assert got.shape == (batch, n_lang + 1)
        np.testing.assert_allclose(got, ref, atol=FINDER_ATOL)


@pytest.mark.model
def test_recogniser_onnx_gives_the_pipelines_readings_and_features(tmp_path, store):
    path = export_recogniser(tmp_path, store)
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 255, (30, w, 3), dtype=np.uint8) for w in (40, 200, 90)]
    batch = line_batch(crops)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probs, steps = sess.run(None, {"x": batch.x})
    ours = LineRecognizer(store)(crops)
    assert probs.shape[:2] == (3, batch.x.shape[3] // 8) and steps.shape[1] == 480
    np.testing.assert_allclose(pool(torch.from_numpy(steps), batch.steps), ours.features,
                               atol=1e-4)  # fmt: skip
    assert (tmp_path / "recogniser.json").is_file()


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
