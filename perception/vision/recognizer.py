"""Shared region features for MENTOR and the script-ID baseline: the PP-OCRv4 recogniser's
backbone, frozen.

PP-OCRv4's recogniser was trained on real photos of text lines (Chinese and Latin); its backbone
(PPLCNetV3, before the SVTR neck and the CTC head) turns a 48-pixel-high line into 480 channels
per 8-pixel column. Those channels separate scripts it never read: a linear probe over them,
trained on synthetic crops of the seen languages, names the language of upright English labels
on a real circuit-board photo that every crop CNN trained here from scratch called Korean or
Khmer (README, MENTOR). This module owns cutting that backbone out of the bundled ONNX graph,
the crop-to-input conversion, pooling to one vector per region, and the two runtimes
(onnxruntime; torch through onnx2torch for CUDA and export). It knows nothing of languages.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from perception.errors import require
from perception.models.store import ModelStore
from perception.vision.ppocr import inline_constants

MODEL_NAME = "ppocr-v4-rec"
# The AveragePool that ends PPLCNetV3 (480 channels, height 1, one step per 8 input columns).
BACKBONE_OUTPUT = "p2o.AveragePool.1"
CHANNELS = 480
FEATURE_DIM = 2 * CHANNELS  # mean and max over the line's steps
INPUT_HW = (48, 192)  # the recogniser's line height; 192 keeps the crops' 1:4 aspect
BATCH = 128


@lru_cache(maxsize=2)
def backbone_graph(path: Path):  # -> onnx.ModelProto
    """The recogniser graph from its input ``x`` to :data:`BACKBONE_OUTPUT`, weights inlined."""
    onnx = require("onnx", "dev")
    model = onnx.shape_inference.infer_shapes(inline_constants(onnx.load(str(path))))
    return onnx.utils.Extractor(model).extract_model(["x"], [BACKBONE_OUTPUT])


def to_input(crops: torch.Tensor) -> torch.Tensor:
    """(N, 1, 32, 128) crops in [0, 1], 1 = ink → (N, 3, 48, 192) recogniser input: dark text
    on light, PaddleOCR's (x - 0.5) / 0.5 scaling."""
    light = 1.0 - F.interpolate(crops, size=INPUT_HW, mode="bilinear", align_corners=False)
    return ((light - 0.5) / 0.5).expand(-1, 3, -1, -1).contiguous()


def pool(steps: torch.Tensor) -> torch.Tensor:
    """(N, 480, 1, T) backbone output → (N, 960): mean and max over the T steps."""
    s = steps.flatten(2)
    return torch.cat([s.mean(2), s.amax(2)], 1)


class TorchRegionEncoder(torch.nn.Module):
    """Crops (N, 1, 32, 128) → region features (N, 960) in torch: :func:`to_input`, the backbone
    converted by onnx2torch, :func:`pool`. The torch runtime and the ONNX export both use it."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.backbone = require("onnx2torch", "dev").convert(backbone_graph(Path(path)))

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return pool(self.backbone(to_input(crops)))


class RegionFeatures:
    """Crops (N, 1, 32, 128) → region features (N, 960) on ``device``, without gradients."""

    def __init__(
        self,
        store: ModelStore | None = None,
        runtime: str = "onnxruntime",
        device: str = "cpu",
        threads: int = 0,
    ) -> None:
        store = ModelStore() if store is None else store
        self.path = store.resolve(MODEL_NAME)
        self.runtime, self.device = runtime, device
        if runtime == "onnxruntime":
            ort = require("onnxruntime", "dev")
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            graph = backbone_graph(Path(self.path))
            self._session = ort.InferenceSession(
                graph.SerializeToString(), opts, providers=["CPUExecutionProvider"]
            )
        else:
            self._module = TorchRegionEncoder(self.path).eval().to(device)

    @torch.no_grad()
    def __call__(self, crops: torch.Tensor) -> torch.Tensor:
        out = []
        for i in range(0, len(crops), BATCH):
            batch = crops[i : i + BATCH].float()
            if self.runtime == "onnxruntime":
                x = to_input(batch).cpu().numpy()
                features = pool(torch.from_numpy(self._session.run(None, {"x": x})[0]))
            else:
                features = self._module(batch.to(self.device))
            out.append(features.to(self.device))
        if not out:
            return torch.zeros((0, FEATURE_DIM), device=self.device)
        return torch.cat(out)


def crop_features(crops: np.ndarray | torch.Tensor, features: RegionFeatures) -> torch.Tensor:
    """Features of many crops ((N, 32, 128) uint8 0..255 or float 0..1), with a progress bar."""
    from tqdm import tqdm

    t = torch.as_tensor(crops)
    if t.dtype == torch.uint8:
        t = t.float() / 255.0
    if t.ndim == 3:
        t = t[:, None]
    chunks = range(0, len(t), BATCH * 8)
    bar = tqdm(chunks, desc="recogniser features", unit="chunk", disable=len(chunks) < 4)
    return torch.cat([features(t[i : i + BATCH * 8]) for i in bar]) if len(t) else features(t)
