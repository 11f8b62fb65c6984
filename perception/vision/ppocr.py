"""The pretrained PP-OCRv4 text detector as the shared, language-agnostic feature extractor.

This module owns reading the PP-OCRv4 det ONNX file (its weights are ``Constant`` nodes, which
onnx2torch cannot read until they move into ``graph.initializer``), exposing the neck's features
(the 96-channel, stride-4 concatenation that feeds the DB head) as a second output, the
PaddleOCR input normalisation, and two runtimes for the same graph: onnxruntime (fast inference)
and torch through onnx2torch (trainable, exportable). It does not know languages or polygons.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from perception.errors import require

# The Concat that joins the four upsampled RSEFPN levels before the DB head's first conv.
FEATURE_OUTPUT = "p2o.Concat.1"
FEATURE_CHANNELS = 96
# PaddleOCR DetResizeForTest + NormalizeImage: BGR order, ImageNet mean/std on [0, 1] pixels.
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)


@dataclass(frozen=True)
class Prepared:
    """A network input and how it maps back: ``scale_xy`` multiplies input px to image px."""

    tensor: np.ndarray  # (1, 3, H', W') float32
    scale_xy: tuple[float, float]


def prepare(image: np.ndarray, max_side_px: int = 960, min_side_px: int = 0) -> Prepared:
    """Resize (sides multiples of 32, shortest side up to ``min_side_px`` as rapidocr does for
    small text, longest side at most ``max_side_px``) and normalise.

    Args:
        image: (H, W, 3) uint8 RGB.
    """
    import cv2

    h, w = image.shape[:2]
    ratio = min(max(1.0, min_side_px / min(h, w)), max_side_px / max(h, w))
    nh, nw = (max(32, int(round(s * ratio / 32)) * 32) for s in (h, w))
    resized = cv2.resize(image, (nw, nh)) if (nh, nw) != (h, w) else image
    return Prepared(normalize(resized[None]), (w / nw, h / nh))


def normalize(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB (sides multiples of 32) → (N, 3, H, W) float32 network input."""
    x = (images[..., ::-1].astype(np.float32) / 255.0 - _MEAN) / _STD
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def inline_constants(model):  # (onnx.ModelProto) -> onnx.ModelProto, in place
    """Move ``Constant`` weight nodes into ``graph.initializer`` (Paddle's exporter writes
    weights as nodes, which onnx2torch cannot read)."""
    graph = model.graph
    keep = []
    for node in graph.node:
        tensor = node.attribute[0].t if node.op_type == "Constant" and node.attribute else None
        if tensor is not None and node.attribute[0].name == "value":
            tensor.name = node.output[0]
            graph.initializer.append(tensor)
        else:
            keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)
    return model


@lru_cache(maxsize=4)
def load_graph(path: Path, with_features: bool = True):  # -> onnx.ModelProto
    """The det graph with Constant weights moved to initializers and the features as output 1."""
    onnx = require("onnx", "dev")
    model = inline_constants(onnx.load(str(path)))
    graph = model.graph
    if with_features:
        feat = onnx.helper.make_tensor_value_info(
            FEATURE_OUTPUT, onnx.TensorProto.FLOAT, [None, FEATURE_CHANNELS, None, None]
        )
        graph.output.append(feat)
    return model


class OrtBackbone:
    """PP-OCRv4 det on onnxruntime: the probability map per image, and with ``with_features``
    the stride-4 features too."""

    def __init__(self, path: Path, threads: int = 0, with_features: bool = True) -> None:
        ort = require("onnxruntime", "dev")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        model = load_graph(Path(path), with_features)
        self.session = ort.InferenceSession(
            model.SerializeToString(), opts, providers=["CPUExecutionProvider"]
        )

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """x (1, 3, H, W) → (prob (1, 1, H, W)[, features (1, 96, H/4, W/4)])."""
        return tuple(self.session.run(None, {"x": x}))


def to_torch(path: Path, with_features: bool = True):  # -> torch.nn.Module
    """The det graph as a torch module (onnx2torch); returns (prob, features) when asked."""
    onnx2torch = require("onnx2torch", "dev")
    module = onnx2torch.convert(load_graph(Path(path), with_features))
    return module.eval()
