"""The three text detectors behind :func:`perception.vision.api.load_detector`.

All share one pipeline: PP-OCRv4 probability map (onnxruntime or torch), DB post-processing
(boxes equal to rapidocr's), then every region's line crops through the PP-OCRv4 recogniser in
one batched call per frame, which gives both the region's reading (CTC) and its features; a
language per region from those features: MENTOR's Text Finder against every language's template
kernels ("mentor"), a classifier over the seen languages ("script-id"), or none ("ppocr"). A tall
box is read three ways (a line either way up, or a column of upright glyphs) and the view whose
language is most confident is kept, for the label and the reading. Every detected box is
returned: the language is a label, never a filter. Only the language step differs, so detection
numbers of the three are comparable by construction. This module does not train anything.
"""

from __future__ import annotations

import numpy as np
import torch

from perception.errors import ConfigError, PerceptionError
from perception.models.store import ModelStore
from perception.vision import ppocr, weights
from perception.vision.crops import crop_views
from perception.vision.languages import load_registry, user_language_codes
from perception.vision.options import DEFAULT_LANGUAGES, VisionOptions
from perception.vision.postprocess import (
    Candidate,
    DbOptions,
    db_candidates,
    pick_labels,
    to_regions,
)
from perception.vision.reading_evidence import ReadingFusion, load_fusion
from perception.vision.recognizer import MODEL_NAME, LineOutput, LineRecognizer
from perception.vision.render import language_templates
from perception.vision.types import UNKNOWN_LANGUAGE, ImageError, Reading, TextRegion
from perception.vision.whole_image import (
    DETECT,
    WHOLE_IMAGE,
    CropRule,
    fills_image,
    is_line,
    whole_candidate,
    with_border,
)


class PpocrDetector:
    """PP-OCRv4 regions, read by the PP-OCRv4 recogniser; every region's language is "unknown"
    (the detection baseline)."""

    def __init__(self, options: VisionOptions, store: ModelStore) -> None:
        self.options = options
        path = store.resolve("ppocr-v4-det")
        if options.threads:
            torch.set_num_threads(options.threads)
        # the probability map only: the labellers read region crops, not the stride-4 features
        if options.runtime == "tensorrt":
            from perception.export.tensorrt import require_tensorrt

            require_tensorrt("vision.runtime 'tensorrt'")
            raise PerceptionError(
                "vision on TensorRT engines is not wired into the detectors yet; use runtime "
                "'onnxruntime' with a CUDA device (its TensorRT provider is picked when present)"
            )
        if options.runtime == "onnxruntime":
            self._ort = ppocr.OrtBackbone(path, options.threads, False, options.device)
            self.providers: tuple[str, ...] = self._ort.providers
        else:
            self._torch = ppocr.to_torch(path, with_features=False).to(options.device)
            self.providers = (f"torch:{options.device}",)
        self.db = DbOptions(options.bin_threshold, options.box_threshold, options.unclip_ratio)
        needs_features = options.detector != "ppocr"
        self.recogniser = (
            LineRecognizer(store, options.runtime, options.device, options.threads)
            if options.read_text or needs_features
            else None
        )
        self.readable = readable_scripts(store) if options.read_text else frozenset()

    def probability_map(self, image: np.ndarray) -> tuple[ppocr.Prepared, np.ndarray]:
        """(prepared input, DB probability map (H', W') of the resized image)."""
        prepared = ppocr.prepare(image, self.options.min_side_px, self.options.max_side_px)
        if self.options.runtime == "onnxruntime":
            (prob,) = self._ort(prepared.tensor)
        else:
            with torch.no_grad():
                x = torch.from_numpy(prepared.tensor).to(self.options.device)
                prob = self._torch(x).cpu().numpy()
        return prepared, prob[0, 0]

    def candidates(self, image: np.ndarray) -> list[Candidate]:
        """The detector's boxes in image pixels (rapidocr's, box for box)."""
        _check_image(image)
        _, prob = self.probability_map(image)
        return db_candidates(prob, self.db, image.shape[:2])

    def detect(self, image: np.ndarray) -> list[TextRegion]:
        """Regions with language and reading, highest detection score first; or the whole
        image as one region (``mode`` "whole-image") when it is itself a word or a line."""
        cands = self.candidates(image)
        mode, score = self.mode(image, cands)
        if mode == WHOLE_IMAGE:
            cands = [whole_candidate(image.shape[:2], score)]
        if not cands:
            return []
        if self.recogniser is None:
            return to_regions(cands, [(UNKNOWN_LANGUAGE, 0.0)] * len(cands), mode=mode)
        views, owner = region_views(image, cands)
        out = self.recogniser(views, read=self.options.read_text)
        labels, chosen = self.label(out, owner, len(cands))
        readings = [
            self.reading(out, v, lang) for v, (lang, _) in zip(chosen, labels, strict=True)
        ]
        if mode == WHOLE_IMAGE and score == 0.0 and not out.texts[chosen[0]][0]:
            return []  # a line-shaped image in which nothing was found and nothing read
        return to_regions(cands, labels, readings, mode)

    def mode(self, image: np.ndarray, cands: list[Candidate]) -> tuple[str, float]:
        """("detect" or "whole-image", the whole image's box score) under
        ``options.whole_image`` (:mod:`perception.vision.whole_image` for "auto")."""
        best = max((c.score for c in cands), default=0.0)
        rule, how = CropRule(), self.options.whole_image
        if how != "auto":
            return (WHOLE_IMAGE if how == "always" else DETECT), best
        if cands:
            return (WHOLE_IMAGE if fills_image(cands, image.shape[:2], rule) else DETECT), best
        padded = self.candidates(with_border(image, rule))
        if padded or is_line(image.shape[:2], rule):
            return WHOLE_IMAGE, max((c.score for c in padded), default=0.0)
        return DETECT, 0.0

    def label(
        self, out: LineOutput, owner: np.ndarray, n: int
    ) -> tuple[list[tuple[str, float]], np.ndarray]:
        """(language, probability) per region and the view chosen for it; here none."""
        first = np.array([int(np.flatnonzero(owner == i)[0]) for i in range(n)])
        return [(UNKNOWN_LANGUAGE, 0.0)] * n, first

    def reading(self, out: LineOutput, view: int, language: str) -> Reading:
        """The recogniser's reading of a view, when it reads that language's script (or the
        language is unknown); else a reading that names what is missing."""
        if not self.options.read_text:
            return Reading()
        script = load_registry()[language].script if language != UNKNOWN_LANGUAGE else ""
        if script and script not in self.readable:
            return Reading(note=f"no reader installed for the {script} script")
        text, score = out.texts[view]
        return Reading(text, score, MODEL_NAME)


class ScriptIdDetector(PpocrDetector):
    """PP-OCRv4 regions labelled by the crop classifier trained on seen languages only."""

    def __init__(self, options: VisionOptions, store: ModelStore) -> None:
        super().__init__(options, store)
        self.ckpt = weights.load(weights.resolve(options.weights), options.device)
        self.fusion = load_fusion() if options.reading_evidence else ReadingFusion()

    @staticmethod
    def scripts(codes: list[str]) -> list[str]:
        """The registry script of each language code."""
        registry = load_registry()
        return [registry[c].script for c in codes]

    @torch.no_grad()
    def probabilities(self, features: torch.Tensor) -> tuple[np.ndarray, list[str]]:
        """Region features (N, 960) → class probabilities (N, C) and the C class codes."""
        prob = torch.softmax(self.ckpt.script_id(features), 1)
        return prob.cpu().numpy(), self.ckpt.script_id_classes

    def label(
        self, out: LineOutput, owner: np.ndarray, n: int
    ) -> tuple[list[tuple[str, float]], np.ndarray]:
        probs, classes = self.probabilities(out.features)
        probs = self.fusion.fuse(probs, list(out.texts), self.scripts(classes))
        chosen = best_views(probs, owner, n, len(classes))
        return pick_labels(probs[chosen], classes, self.options.language_threshold), chosen


class MentorDetector(ScriptIdDetector):
    """PP-OCRv4 regions labelled by MENTOR: each region's features against every language's
    kernel (computed once from its printed templates), plus the "unknown" outcome."""

    def __init__(self, options: VisionOptions, store: ModelStore) -> None:
        self.codes = resolve_languages(options.languages)  # a bad code fails before any load
        super().__init__(options, store)
        self.kernels = language_kernels(self.ckpt.mentor, self.codes, self.recogniser)

    @torch.no_grad()
    def probabilities(self, features: torch.Tensor) -> tuple[np.ndarray, list[str]]:
        """Region features → (N, L + 1) probabilities, the last column "unknown"; L codes."""
        prob = torch.softmax(self.ckpt.mentor(features, self.kernels), 1)
        return prob.cpu().numpy(), self.codes


def region_views(image: np.ndarray, cands: list[Candidate]) -> tuple[list[np.ndarray], np.ndarray]:
    """Every candidate's RGB line crops (one, or three for a tall box:
    :func:`~perception.vision.crops.crop_views`); and the candidate each crop belongs to."""
    crops, owner = [], []
    for i, c in enumerate(cands):
        views = crop_views(image, c.polygon_px)
        crops += views
        owner += [i] * len(views)
    return crops, np.array(owner)


def best_views(prob: np.ndarray, owner: np.ndarray, n: int, languages: int) -> np.ndarray:
    """Per candidate, the index of its view whose best language is most probable (the
    "unknown" column, if any, never decides)."""
    best = prob[:, :languages].max(1)
    rows = [np.flatnonzero(owner == i) for i in range(n)]
    return np.array([r[np.argmax(best[r])] for r in rows])


def most_confident_view(prob: np.ndarray, owner: np.ndarray, n: int, languages: int) -> np.ndarray:
    """Per candidate, the probability row of :func:`best_views`."""
    return prob[best_views(prob, owner, n, languages)]


def readable_scripts(store: ModelStore) -> frozenset[str]:
    """The scripts the installed reader reads (its card's ``scripts``)."""
    return frozenset(store.card(MODEL_NAME).scripts)


def resolve_languages(codes: tuple[str, ...]) -> list[str]:
    """The requested codes, checked; empty = defaults plus every language the user added."""
    registry = load_registry()
    if not codes:
        added = tuple(c for c in user_language_codes() if c not in DEFAULT_LANGUAGES)
        codes = DEFAULT_LANGUAGES + added
    unknown = [c for c in codes if c not in registry]
    if unknown:
        raise ConfigError(
            f"languages {unknown} are not in the registry ({', '.join(sorted(registry))}); "
            "add them with `perception languages add`"
        )
    return list(codes)


def language_kernels(
    mentor, codes: list[str], recogniser: LineRecognizer, seed: int = 0
) -> torch.Tensor:
    """Dynamic-conv kernels (L, D) from each language's printed templates: no gradient step."""
    registry = load_registry()
    k = mentor.cfg.templates_per_language
    templates = [
        recogniser.embed(language_templates(registry[c], k, "train", seed)) for c in codes
    ]
    with torch.no_grad():
        return mentor.kernels(templates)


def _check_image(image: np.ndarray) -> None:
    if not (isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 3):
        got = getattr(image, "shape", type(image).__name__)
        raise ImageError(f"expected an (H, W, 3) uint8 RGB image, got {got}")
    if image.dtype != np.uint8:
        raise ImageError(f"expected dtype uint8 (0..255 RGB), got {image.dtype}; convert first")
    if image.size == 0:
        raise ImageError(f"expected an image with pixels, got shape {image.shape}")
