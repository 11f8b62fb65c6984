"""The pretrained PP-OCRv4 text detector as the shared, language-agnostic feature extractor.

This module owns reading the PP-OCRv4 det ONNX file (its weights are ``Constant`` nodes, which
onnx2torch cannot read until they move into ``graph.initializer``), exposing the neck's features
(the 96-channel, stride-4 concatenation that feeds the DB head) as a second output for export,
the input resizing and normalisation of rapidocr's pipeline (the reference our detector is held
to), and two runtimes for the same graph: onnxruntime (fast inference) and torch through
onnx2torch (trainable, exportable). It does not know languages or polygons.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from perception.errors import require
from perception.vision.types import ImageError

# The Concat that joins the four upsampled RSEFPN levels before the DB head's first conv.
FEATURE_OUTPUT = "p2o.Concat.1"
FEATURE_CHANNELS = 96
# rapidocr's DetPreProcess, which the parity test holds us to: (x / 255 - 0.5) / 0.5 on the BGR
# image (PaddleOCR's models are trained on cv2-loaded BGR frames).
_MEAN, _STD = 0.5, 0.5


@dataclass(frozen=True)
class Prepared:
    """A network input and how it maps back: ``size_hw`` of the input image, ``input_hw`` of
    the network input (multiples of 32)."""

    tensor: np.ndarray  # (1, 3, H', W') float32
    size_hw: tuple[int, int]
    input_hw: tuple[int, int]

    @property
    def scale_xy(self) -> tuple[float, float]:
        """Multiplies network-input px to image px."""
        return (self.size_hw[1] / self.input_hw[1], self.size_hw[0] / self.input_hw[0])


def resize_ratio(h: int, w: int, min_side_px: int, max_side_px: int) -> float:
    """Enlarge so the short side reaches ``min_side_px`` (rapidocr's ``limit_type: min``; 0 =
    never), then shrink so the long side is at most ``max_side_px`` (0 = no limit)."""
    ratio = min_side_px / min(h, w) if min_side_px and min(h, w) < min_side_px else 1.0
    if max_side_px and max(h, w) * ratio > max_side_px:
        ratio = max_side_px / max(h, w)
    return ratio


def prepare(image: np.ndarray, min_side_px: int = 736, max_side_px: int = 0) -> Prepared:
    """Resize (:func:`resize_ratio`, then each side rounded to a multiple of 32 as rapidocr
    does: int(side × ratio), then round to 32) and normalise.

    Args:
        image: (H, W, 3) uint8 RGB.
    """
    import cv2

    h, w = image.shape[:2]
    if h == 0 or w == 0:
        raise ImageError(f"expected an image with pixels, got shape {image.shape}")
    ratio = resize_ratio(h, w, min_side_px, max_side_px)
    nh, nw = (max(32, int(round(int(s * ratio) / 32) * 32)) for s in (h, w))
    resized = cv2.resize(image, (nw, nh)) if (nh, nw) != (h, w) else image
    return Prepared(normalize(resized[None]), (h, w), (nh, nw))


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

    def __init__(
        self, path: Path, threads: int = 0, with_features: bool = True, device: str = "cpu"
    ) -> None:
        from perception.runtime import ort_session

        model = load_graph(Path(path), with_features)
        opened = ort_session(model.SerializeToString(), device, threads)
        self.session, self.providers = opened.session, opened.providers

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """x (1, 3, H, W) → (prob (1, 1, H, W)[, features (1, 96, H/4, W/4)])."""
        return tuple(self.session.run(None, {"x": x}))


def to_torch(path: Path, with_features: bool = True):  # -> torch.nn.Module
    """The det graph as a torch module (onnx2torch); returns (prob, features) when asked."""
    onnx2torch = require("onnx2torch", "dev")
    module = onnx2torch.convert(load_graph(Path(path), with_features))
    return module.eval()
