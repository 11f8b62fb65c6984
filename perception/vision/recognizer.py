"""The PP-OCRv4 recogniser, run once per frame for two jobs: reading and region features.

PP-OCRv4's recogniser (PPLCNetV3 backbone, SVTR neck, CTC head) was trained on real photos of
Chinese and Latin text lines. One forward pass over a frame's line crops gives both:

- the CTC probabilities, decoded greedily with the model's own character list (stored in the
  ONNX file's metadata) into the region's text and a confidence (reading);
- the backbone's output (480 channels per 8-pixel column), mean- and max-pooled over the crop's
  own columns into one 960-wide vector per region: the shared features that MENTOR and the
  script-ID baseline label with a language. Those channels separate scripts the recogniser never
  read (a linear probe over them named the upright English labels on a real photo that every crop
  CNN trained here called Korean or Khmer; docs/vision.md).

Line crops follow rapidocr's recogniser input exactly (its parity test holds us to it): a region
is warped to an upright rectangle (turned 90 degrees when it is 1.5 times taller than wide), scaled
to 48 px high keeping its aspect, BGR, (x / 255 − 0.5) / 0.5, and right-padded with zeros to the
batch's width (at least 320 px). A frame's crops go through in batches of similar width: padding
every crop to the frame's widest line made the recogniser 5 s per photo. This module owns the
crops' conversion, the graph with the backbone as a second output, decoding, pooling, and the
runtimes (onnxruntime for both outputs; torch through onnx2torch for the backbone only, since
onnx2torch cannot convert the SVTR neck). It knows nothing of languages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import torch

from perception.errors import require
from perception.models.store import ModelStore
from perception.vision.ppocr import inline_constants

MODEL_NAME = "ppocr-v4-rec"
# The AveragePool that ends PPLCNetV3 (480 channels, height 1, one step per 8 input columns).
BACKBONE_OUTPUT = "p2o.AveragePool.1"
CHANNELS = 480
FEATURE_DIM = 2 * CHANNELS  # mean and max over the line's steps
LINE_HEIGHT = 48
MIN_WIDTH = 320  # rapidocr's rec_img_shape width: a batch is never narrower
MAX_RATIO = 40.0  # a line wider than 40 × its height is squeezed (bounds one frame's batch)
STEP_PX = 8  # input columns per backbone / CTC step
BATCH = 6  # most crops in one call (rapidocr's too): on the real photos, 1 thread, 64 took
# 2.5 s per photo and 6 took 1.7 s (bench/results/bench_vision_2threads.txt)


def line_crop(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The pixels of a quadrilateral (4, 2), clockwise from the top-left, warped to an upright
    (h, w, 3) uint8 rectangle, turned 90 degrees counter-clockwise when h >= 1.5 w."""
    q = np.asarray(quad, np.float32)
    w = int(max(np.linalg.norm(q[0] - q[1]), np.linalg.norm(q[2] - q[3])))
    h = int(max(np.linalg.norm(q[0] - q[3]), np.linalg.norm(q[1] - q[2])))
    if w < 1 or h < 1:
        return np.zeros((1, 1, 3), np.uint8)
    target = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    m = cv2.getPerspectiveTransform(q, target)
    crop = cv2.warpPerspective(
        image, m, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )
    return np.ascontiguousarray(np.rot90(crop)) if h / w >= 1.5 else crop


@dataclass(frozen=True)
class LineBatch:
    """Line crops as one network input: ``x`` (N, 3, 48, W) float32 and each crop's width in
    input columns before padding."""

    x: np.ndarray
    widths: np.ndarray  # (N,) int

    @property
    def steps(self) -> np.ndarray:
        """(N,) backbone / CTC steps that cover each crop's own columns."""
        return np.maximum(1, np.ceil(self.widths / STEP_PX)).astype(int)


def line_batch(crops: list[np.ndarray]) -> LineBatch:
    """RGB (h, w, 3) uint8 crops → one padded input (rapidocr's ``resize_norm_img``)."""
    ratios = [c.shape[1] / max(c.shape[0], 1) for c in crops]
    width = int(LINE_HEIGHT * min(max(MIN_WIDTH / LINE_HEIGHT, *ratios), MAX_RATIO))
    x = np.zeros((len(crops), 3, LINE_HEIGHT, width), np.float32)
    widths = np.zeros(len(crops), int)
    for i, (crop, ratio) in enumerate(zip(crops, ratios, strict=True)):
        w = min(width, int(math.ceil(LINE_HEIGHT * ratio)))
        resized = cv2.resize(crop[..., ::-1], (max(w, 1), LINE_HEIGHT)).astype(np.float32)
        x[i, :, :, :w] = (resized.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
        widths[i] = w
    return LineBatch(x, widths)


def pool(steps: torch.Tensor, valid: np.ndarray | None = None) -> torch.Tensor:
    """(N, 480, 1, T) backbone output → (N, 960): mean and max over each crop's own steps
    (``valid`` (N,), default all T)."""
    s = steps.flatten(2)  # (N, 480, T)
    if valid is None:
        return torch.cat([s.mean(2), s.amax(2)], 1)
    t = torch.arange(s.shape[2], device=s.device)
    mask = (t[None, :] < torch.as_tensor(valid, device=s.device)[:, None])[:, None]  # (N,1,T)
    count = mask.sum(2).clamp_min(1)
    mean = (s * mask).sum(2) / count
    peak = s.masked_fill(~mask, float("-inf")).amax(2)
    return torch.cat([mean, peak], 1)


@lru_cache(maxsize=2)
def characters(path: Path) -> tuple[str, ...]:
    """The CTC classes: blank, the model's character list (ONNX metadata), then a space."""
    onnx = require("onnx", "dev")
    model = onnx.load(str(path), load_external_data=False)
    meta = {kv.key: kv.value for kv in model.metadata_props}
    if "character" not in meta:
        raise ValueError(f"{path} has no 'character' metadata: not a PP-OCR recogniser export")
    return ("", *meta["character"].splitlines(), " ")


def ctc_decode(probs: np.ndarray, chars: tuple[str, ...]) -> list[tuple[str, float]]:
    """Greedy CTC over (N, T, C) probabilities: best class per step, repeats merged, blanks
    dropped; the confidence is the mean probability of the kept steps (0 for no text)."""
    best, conf = probs.argmax(2), probs.max(2)
    out = []
    for ids, p in zip(best, conf, strict=True):
        keep = ids != 0
        keep[1:] &= ids[1:] != ids[:-1]
        text = "".join(chars[i] for i in ids[keep])
        out.append((text, float(p[keep].mean()) if keep.any() else 0.0))
    return out


@lru_cache(maxsize=2)
def recogniser_graph(path: Path, with_ctc: bool = True):  # -> onnx.ModelProto
    """The recogniser with the backbone's output added (``with_ctc``: CTC probabilities, then
    backbone), or cut at the backbone (torch conversion), weights inlined."""
    onnx = require("onnx", "dev")
    model = onnx.shape_inference.infer_shapes(inline_constants(onnx.load(str(path))))
    if not with_ctc:
        return onnx.utils.Extractor(model).extract_model(["x"], [BACKBONE_OUTPUT])
    info = onnx.helper.make_tensor_value_info(
        BACKBONE_OUTPUT, onnx.TensorProto.FLOAT, [None, CHANNELS, 1, None]
    )
    model.graph.output.append(info)
    return model


@dataclass(frozen=True)
class LineOutput:
    """One frame's recogniser output: region features and readings, one row per crop."""

    features: torch.Tensor  # (N, 960)
    texts: tuple[tuple[str, float], ...]  # (text, confidence) per crop; empty when not read


class LineRecognizer:
    """Crops → :class:`LineOutput`, one call per batch. ``runtime="onnxruntime"`` reads and
    embeds in the same pass; ``"torch"`` embeds on ``device`` with the converted backbone and
    reads with onnxruntime (a second pass)."""

    def __init__(
        self,
        store: ModelStore | None = None,
        runtime: str = "onnxruntime",
        device: str = "cpu",
        threads: int = 0,
    ) -> None:
        store = ModelStore() if store is None else store
        self.path = Path(store.resolve(MODEL_NAME))
        self.runtime, self.device = runtime, device
        self.chars = characters(self.path)
        ort = require("onnxruntime", "dev")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        graph = recogniser_graph(self.path)
        self._ctc_output = graph.graph.output[0].name
        self._session = ort.InferenceSession(
            graph.SerializeToString(), opts, providers=["CPUExecutionProvider"]
        )
        if runtime == "torch":
            convert = require("onnx2torch", "dev").convert
            self._backbone = convert(recogniser_graph(self.path, False)).eval().to(device)

    @torch.no_grad()
    def __call__(self, crops: list[np.ndarray], read: bool = True) -> LineOutput:
        """Features (and, with ``read``, the text) of RGB line crops, in one pass per batch of
        crops of similar width (:func:`width_batches`), in the crops' order."""
        features = torch.zeros((len(crops), FEATURE_DIM), device=self.device)
        texts: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        for idx in width_batches(crops):
            out = self._batch([crops[i] for i in idx], read)
            features[torch.from_numpy(idx)] = out.features
            for i, t in zip(idx, out.texts, strict=False):
                texts[i] = t
        return LineOutput(features, tuple(texts) if read else ())

    def _batch(self, crops: list[np.ndarray], read: bool) -> LineOutput:
        batch = line_batch(crops)
        if self.runtime == "torch":
            x = torch.from_numpy(batch.x).to(self.device)
            features = pool(self._backbone(x), batch.steps)
            return LineOutput(features, self._read(batch) if read else ())
        probs, steps = self._session.run(None, {"x": batch.x})
        features = pool(torch.from_numpy(steps), batch.steps).to(self.device)
        return LineOutput(features, tuple(ctc_decode(probs, self.chars)) if read else ())

    def _read(self, batch: LineBatch) -> tuple[tuple[str, float], ...]:
        probs = self._session.run([self._ctc_output], {"x": batch.x})[0]
        return tuple(ctc_decode(probs, self.chars))

    def embed(self, crops: list[np.ndarray]) -> torch.Tensor:
        """Features of many crops (training data, templates)."""
        return self(crops, read=False).features


def width_batches(crops: list[np.ndarray], spread: float = 1.5) -> list[np.ndarray]:
    """Crop indices grouped so that a batch's widest input is at most ``spread`` times its
    narrowest (inputs are padded to the widest) and holds at most :data:`BATCH` crops."""
    widths = [
        max(MIN_WIDTH, min(MAX_RATIO * LINE_HEIGHT, LINE_HEIGHT * c.shape[1] / max(c.shape[0], 1)))
        for c in crops
    ]
    order = np.argsort(widths, kind="stable")
    batches, start = [], 0
    for k in range(1, len(order) + 1):
        full = k - start == BATCH
        if k == len(order) or full or widths[order[k]] > spread * widths[order[start]]:
            batches.append(order[start:k])
            start = k
    return batches
