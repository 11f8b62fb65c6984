"""ONNX export of the vision models: the detector, the region encoder and MENTOR's Text Finder.

The detector graph is the torch module converted from PP-OCRv4 (what we would fine-tune),
re-exported with both outputs (probability map, stride-4 features). The recogniser graph is
PP-OCRv4's with its backbone's output added: one pass gives the reading and the region
features; templates go through it too. The Text Finder graph (shared embedding + dynamic
1x1 convolution) takes the language kernels as an input (``kernels`` (L, D)), so a deployed
engine adds a language by feeding a new kernel row computed once from templates, without
re-export. Each file gets a JSON
manifest (opset, shapes, source checksum). This module does not run the graphs.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from perception.export.trace import trace_to_onnx
from perception.models.store import ModelStore, sha256_file
from perception.vision import ppocr, recognizer, weights
from perception.vision.mentor import Mentor

OPSET = 17


def export_detector(out: Path, store: ModelStore | None = None) -> Path:
    """``detector.onnx``: x (1, 3, H, W) → probability (1, 1, H, W), features (1, 96, H/4, W/4)."""
    store = ModelStore() if store is None else store
    source = store.resolve("ppocr-v4-det")
    module = ppocr.to_torch(source)
    x = torch.zeros(1, 3, 480, 640)
    path = out / "detector.onnx"
    _export(
        module, (x,), path, ["x"], ["probability", "features"], {"x": {2: "height", 3: "width"}}
    )
    _manifest(path, {"source": str(source), "source_sha256": sha256_file(source)})
    return path


def export_recogniser(out: Path, store: ModelStore | None = None) -> Path:
    """``recogniser.onnx``: line crops x (B, 3, 48, W) → CTC probabilities (B, W/8, classes)
    and backbone steps (B, 480, 1, W/8), the graph the pipeline runs (weights inlined); region
    features are the mean and max of the steps over each crop's own columns."""
    store = ModelStore() if store is None else store
    source = store.resolve(recognizer.MODEL_NAME)
    path = out / "recogniser.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(recognizer.recogniser_graph(Path(source)).SerializeToString())
    _manifest(
        path,
        {
            "source": str(source),
            "source_sha256": sha256_file(source),
            "outputs": ["ctc_probabilities", recognizer.BACKBONE_OUTPUT],
            "line_height_px": recognizer.LINE_HEIGHT,
            "features": "mean and max of backbone steps over ceil(crop width / 8) steps",
        },
    )
    return path


def export_finder_graph(mentor: Mentor, path: Path) -> Path:
    """features (B, 960), kernels (L, D) → region logits (B, L + 1), "unknown" last."""
    args = (torch.zeros(2, mentor.cfg.feature_dim), torch.zeros(3, mentor.cfg.embed_dim))
    dynamic = {"features": {0: "batch"}, "kernels": {0: "languages"}, "logits": {0: "batch"}}
    _export(mentor.eval(), args, path, ["features", "kernels"], ["logits"], dynamic)
    return path


def export_text_finder(out: Path, checkpoint: str = "") -> Path:
    """``text_finder.onnx`` from a checkpoint path or bundled name (default: the default
    bundled model), with a manifest."""
    ckpt = weights.load(weights.resolve(checkpoint))
    path = export_finder_graph(ckpt.mentor, out / "text_finder.onnx")
    _manifest(path, {"kernel_dim": ckpt.mentor.cfg.embed_dim, "checkpoint_meta": ckpt.meta})
    return path


def export_all(out: Path, checkpoint: str = "") -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [export_detector(out), export_recogniser(out), export_text_finder(out, checkpoint)]


def _export(module, args, path: Path, inputs, outputs, dynamic) -> None:
    trace_to_onnx(module, args, path, inputs, outputs, dynamic, OPSET)


def _manifest(path: Path, extra: dict) -> None:
    info = {
        "file": path.name,
        "sha256": sha256_file(path),
        "opset": OPSET,
        "torch": torch.__version__,
        **extra,
    }
    path.with_suffix(".json").write_text(json.dumps(info, indent=1, default=str), encoding="utf-8")
