"""The compact detectors at run time: a bundle of heads over one feature model, and the check.

Owns the bundle file (``perception-guard/1``: the feature options, one head per detector, the
category prototypes, and a note of the training data), its card beside it (checked on load), and
:class:`Detectors`, which turns a text into calibrated scores, labels and a verdict. A check that
cannot be made (text over ``max_chars``, a broken bundle) raises :class:`GuardError`, so callers
can fail closed. It does not train anything (:mod:`perception.llm.guard.train`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from perception.config import check
from perception.errors import PerceptionError
from perception.llm.guard.features import Embedder, FeatureOptions
from perception.llm.guard.heads import Head
from perception.models.bundled import checked_entry
from perception.models.store import ModelStore

FORMAT = "perception-guard/1"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# the default: LR heads for jailbreak and injection, fine-tuned logits for harmful and reply,
# chosen per detector by the worst left-out source (docs/llm-and-guard.md)
DEFAULT_BUNDLE = "guard-minilm-hybrid"
LR_BUNDLE = "guard-minilm"  # LR heads over frozen MiniLM only (the baseline)
TRAIN_HINT = "retrain it with `perception guard train`"
Direction = Literal["prompt", "reply", "context"]
# which detectors read which text: a prompt to the LLM, the LLM's reply, or text the robot heard or
# read that is routed to the LLM as context (screened for instructions aimed at the robot)
DIRECTIONS: dict[str, tuple[str, ...]] = {
    "prompt": ("harmful", "jailbreak", "injection"),
    "reply": ("reply",),
    "context": ("injection", "jailbreak"),
}


class GuardError(PerceptionError):
    """A guard could not check a text; the caller must refuse it (fail closed)."""


@dataclass(frozen=True)
class DetectorOptions:
    """bundle: a bundled name (``guard-minilm-hybrid``, ``guard-minilm``) or a ``.pt`` path;
    max_chars: longest text checked (a longer one is a GuardError, not a pass); detectors: which
    may run; runtime: where the MiniLM feature model runs (``onnxruntime`` exports it into the
    store on first use; the heads are numpy either way)."""

    bundle: str = DEFAULT_BUNDLE
    max_chars: int = 20000
    detectors: tuple[str, ...] = ("harmful", "jailbreak", "injection", "reply")
    runtime: Literal["torch", "onnxruntime"] = "torch"

    def __post_init__(self) -> None:
        check(self.max_chars >= 1, f"max_chars must be >= 1, got {self.max_chars}")


@dataclass(frozen=True)
class Verdict:
    """One text's check: allowed, the labels that fired, each detector's probability."""

    allowed: bool
    labels: tuple[str, ...]
    scores: dict[str, float]
    message: str = ""
    latency_ms: float = 0.0


@dataclass(frozen=True)
class Bundle:
    """Loaded heads with their feature options, the harm-category prototypes and, for a
    fine-tuned encoder, its tuned parameters (``tuned``: :class:`~.features.Tuned` state-dict
    entries, float16; empty for frozen MiniLM)."""

    heads: dict[str, Head]
    features: FeatureOptions
    categories: tuple[str, ...] = ()
    prototypes: np.ndarray = field(default_factory=lambda: np.zeros((0, 384), np.float32))
    meta: dict = field(default_factory=dict)
    tuned: dict[str, torch.Tensor] = field(default_factory=dict)


def save_bundle(path: Path, bundle: Bundle) -> None:
    """Write a bundle (tensors and plain data only, so it loads with ``weights_only``)."""
    heads = {
        name: {
            k: torch.from_numpy(np.asarray(v)) if isinstance(v, np.ndarray) else v
            for k, v in asdict(h).items()
        }
        for name, h in bundle.heads.items()
    }
    payload = {
        "format": FORMAT,
        "features": asdict(bundle.features),
        "heads": heads,
        "categories": list(bundle.categories),
        "prototypes": torch.from_numpy(bundle.prototypes),
        "meta": bundle.meta,
        "tuned": dict(bundle.tuned),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)


def load_bundle(path: Path) -> Bundle:
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("format") != FORMAT:
        raise GuardError(f"{path} is not a {FORMAT} bundle (format {payload.get('format')!r})")
    heads = {
        name: Head(**{k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in h.items()})
        for name, h in payload["heads"].items()
    }
    return Bundle(
        heads,
        FeatureOptions(**payload["features"]),
        tuple(payload["categories"]),
        payload["prototypes"].numpy(),
        dict(payload["meta"]),
        dict(payload.get("tuned", {})),
    )


def bundle_path(name: str) -> Path:
    """A bundled name → its checked file; anything with a '/' or '.pt' is a path."""
    if "/" in name or name.endswith(".pt"):
        return Path(name)
    return checked_entry(WEIGHTS_DIR, name, TRAIN_HINT)


class Detectors:
    """Calibrated detector scores and verdicts for texts, on the CPU."""

    def __init__(self, options: DetectorOptions | None = None, store: ModelStore | None = None):
        self.options = options or DetectorOptions()
        self.bundle = load_bundle(bundle_path(self.options.bundle))
        missing = sorted(set(self.options.detectors) - set(self.bundle.heads))
        check(not missing, f"detectors {missing} are not in bundle {self.options.bundle!r}")
        self.embedder = Embedder(self.bundle.features, store, self.bundle.tuned)
        self.providers: tuple[str, ...] = ("torch:cpu",)
        if self.options.runtime == "onnxruntime":
            from perception.llm.guard.export import load_onnx_embedder

            self.embedder = load_onnx_embedder(self.embedder, store or ModelStore())
            self.providers = self.embedder.providers

    def features(self, texts: list[str]) -> np.ndarray:
        """(B, D) features; raises GuardError for a text the guard may not read."""
        for text in texts:
            if len(text) > self.options.max_chars:
                raise GuardError(
                    f"text of {len(text)} characters is over the guard's max_chars "
                    f"({self.options.max_chars}); it was not checked, so it is refused"
                )
        return self.embedder(texts)

    def probs(self, feats: np.ndarray, direction: Direction) -> list[dict[str, float]]:
        """Each row's probability per detector that reads ``direction``."""
        names = [d for d in DIRECTIONS[direction] if d in self.options.detectors]
        probs = {n: self.bundle.heads[n].prob(feats) for n in names}
        return [{n: float(probs[n][i]) for n in names} for i in range(len(feats))]

    def scores(self, texts: list[str], direction: Direction = "prompt") -> list[dict[str, float]]:
        """Each text's probability per detector that reads ``direction``."""
        return self.probs(self.features(texts), direction)

    def category(self, feats: np.ndarray) -> str:
        """The harm category whose prototype is nearest to a text's mean embedding."""
        if not len(self.bundle.categories):
            return ""
        mean = feats[: self.bundle.prototypes.shape[1]]
        return self.bundle.categories[int(np.argmax(self.bundle.prototypes @ mean))]

    def check_many(self, texts: list[str], direction: Direction = "prompt") -> list[Verdict]:
        """Verdicts in order; raises GuardError when any text cannot be checked."""
        start = time.perf_counter()
        feats = self.features(texts)
        all_scores = self.probs(feats, direction)
        per_text_ms = (time.perf_counter() - start) * 1e3 / max(len(texts), 1)
        out = []
        for row, scores in zip(feats, all_scores, strict=True):
            fired = [n for n, p in scores.items() if p >= self.bundle.heads[n].threshold]
            if "harmful" in fired:
                fired.append(f"harmful:{self.category(row)}")
            message = f"flagged by {', '.join(fired)}" if fired else ""
            out.append(Verdict(not fired, tuple(fired), scores, message, per_text_ms))
        return out

    def check(self, text: str, direction: Direction = "prompt") -> Verdict:
        return self.check_many([text], direction)[0]
