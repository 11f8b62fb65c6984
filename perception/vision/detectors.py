"""The three text detectors behind :func:`perception.vision.api.load_detector`.

All share one pipeline: PP-OCRv4 probability map (onnxruntime or torch), DB post-processing,
then a language per region from its rectified crop's PP-OCRv4 recogniser features: MENTOR's
Text Finder against every language's template kernels ("mentor"), a classifier over the seen
languages ("script-id"), or none ("ppocr"). A vertical box is read three ways (a line either
way up, or a column of upright glyphs) and the most confident reading is kept. Only the
language step differs, so detection numbers of the three are comparable by construction. This
module does not train anything.
"""

from __future__ import annotations

import numpy as np
import torch

from perception.models.store import ModelStore
from perception.vision import ppocr, weights
from perception.vision.api import DEFAULT_LANGUAGES, VisionOptions
from perception.vision.languages import load_registry, user_language_codes
from perception.vision.postprocess import (
    Candidate,
    DbOptions,
    db_candidates,
    pick_labels,
    to_regions,
)
from perception.vision.recognizer import RegionFeatures
from perception.vision.render import template_batch
from perception.vision.script_id import crop_views, grey_image
from perception.vision.types import UNKNOWN_LANGUAGE, TextRegion


class PpocrDetector:
    """PP-OCRv4 regions; every region's language is "unknown" (the detection baseline)."""

    def __init__(self, options: VisionOptions, store: ModelStore) -> None:
        self.options = options
        path = store.resolve("ppocr-v4-det")
        if options.threads:
            torch.set_num_threads(options.threads)
        # the probability map only: the labellers read region crops, not the stride-4 features
        if options.runtime == "onnxruntime":
            self._ort = ppocr.OrtBackbone(path, options.threads, with_features=False)
        else:
            self._torch = ppocr.to_torch(path, with_features=False).to(options.device)
        self.db = DbOptions(options.bin_threshold, options.box_threshold, options.unclip_ratio)

    def probability_map(self, image: np.ndarray) -> tuple[ppocr.Prepared, np.ndarray]:
        """(prepared input, DB probability map (H', W') of the resized image)."""
        prepared = ppocr.prepare(image, self.options.max_side_px, self.options.min_side_px)
        if self.options.runtime == "onnxruntime":
            (prob,) = self._ort(prepared.tensor)
        else:
            with torch.no_grad():
                x = torch.from_numpy(prepared.tensor).to(self.options.device)
                prob = self._torch(x).cpu().numpy()
        return prepared, prob[0, 0]

    def detect(self, image: np.ndarray) -> list[TextRegion]:
        _check_image(image)
        prepared, prob = self.probability_map(image)
        cands = db_candidates(prob, self.db)
        labels = [(UNKNOWN_LANGUAGE, 0.0)] * len(cands)
        return to_regions(cands, labels, prepared.scale_xy, image.shape[:2])


class ScriptIdDetector(PpocrDetector):
    """PP-OCRv4 regions labelled by the crop classifier trained on seen languages only."""

    def __init__(self, options: VisionOptions, store: ModelStore) -> None:
        super().__init__(options, store)
        self.ckpt = weights.load(weights.resolve(options.weights), options.device)
        self.region_features = RegionFeatures(
            store, options.runtime, options.device, options.threads
        )

    @torch.no_grad()
    def probabilities(self, crops: torch.Tensor) -> tuple[np.ndarray, list[str]]:
        """Crops (N, 1, 32, 128) → class probabilities (N, C) and the C class codes."""
        prob = torch.softmax(self.ckpt.script_id(self.region_features(crops)), 1)
        return prob.cpu().numpy(), self.ckpt.script_id_classes

    def detect(self, image: np.ndarray) -> list[TextRegion]:
        _check_image(image)
        prepared, prob = self.probability_map(image)
        cands = db_candidates(prob, self.db)
        if not cands:
            return []
        crops, owner = region_views(image, cands, prepared.scale_xy)
        probs, classes = self.probabilities(crops.to(self.options.device))
        probs = most_confident_view(probs, owner, len(cands), len(classes))
        labels = pick_labels(probs, classes, self.options.language_threshold)
        return to_regions(cands, labels, prepared.scale_xy, image.shape[:2])


class MentorDetector(ScriptIdDetector):
    """PP-OCRv4 regions labelled by MENTOR: each region's crop against every language's kernel
    (computed once from its printed templates), plus the "unknown" outcome."""

    def __init__(self, options: VisionOptions, store: ModelStore) -> None:
        super().__init__(options, store)
        self.codes = resolve_languages(options.languages)
        self.kernels = language_kernels(self.ckpt.mentor, self.codes, self.region_features)

    @torch.no_grad()
    def probabilities(self, crops: torch.Tensor) -> tuple[np.ndarray, list[str]]:
        """Crops → (N, L + 1) probabilities, the last column "unknown"; and the L codes."""
        prob = torch.softmax(self.ckpt.mentor(self.region_features(crops), self.kernels), 1)
        return prob.cpu().numpy(), self.codes


def region_views(
    image: np.ndarray, cands: list[Candidate], scale_xy
) -> tuple[torch.Tensor, np.ndarray]:
    """Every candidate's crops (1, 32, 128) of the original image, ink = 1 (one, or three for a
    vertical box: :func:`~perception.vision.script_id.crop_views`), stacked; and the index of
    the candidate each crop belongs to."""
    crops, owner = [], []
    grey = grey_image(image)
    for i, c in enumerate(cands):
        views = crop_views(grey, c.polygon_px * np.float32(scale_xy))
        crops += views
        owner += [i] * len(views)
    return torch.from_numpy(np.stack(crops))[:, None], np.array(owner)


def most_confident_view(prob: np.ndarray, owner: np.ndarray, n: int, languages: int) -> np.ndarray:
    """Per candidate, the probability row of its view whose best language is most probable."""
    best = prob[:, :languages].max(1)
    rows = [np.flatnonzero(owner == i) for i in range(n)]
    return np.stack([prob[r[np.argmax(best[r])]] for r in rows])


def resolve_languages(codes: tuple[str, ...]) -> list[str]:
    """The requested codes, checked; empty = defaults plus every language the user added."""
    registry = load_registry()
    if not codes:
        added = tuple(c for c in user_language_codes() if c not in DEFAULT_LANGUAGES)
        codes = DEFAULT_LANGUAGES + added
    unknown = [c for c in codes if c not in registry]
    if unknown:
        raise ValueError(
            f"languages {unknown} are not in the registry ({', '.join(sorted(registry))}); "
            "add them with `perception languages add`"
        )
    return list(codes)


def language_kernels(
    mentor, codes: list[str], features: RegionFeatures, seed: int = 0
) -> torch.Tensor:
    """Dynamic-conv kernels (L, D) from each language's printed templates: no gradient step."""
    registry = load_registry()
    k = mentor.cfg.templates_per_language
    templates = [features(torch.from_numpy(template_batch(registry[c], k, seed))) for c in codes]
    with torch.no_grad():
        return mentor.kernels(templates)


def _check_image(image: np.ndarray) -> None:
    if not (isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 3):
        got = getattr(image, "shape", type(image).__name__)
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {got}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected dtype uint8 (0..255 RGB), got {image.dtype}; convert first")
