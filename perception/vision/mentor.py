"""MENTOR's three modules (Lin et al., "MENTOR: Multilingual tExt detectioN TOward leaRning by
analogy", IROS 2023): Dynamic Guide, Language Mapper and Text Finder, in torch.

A language enters only through K printed-text templates: the Dynamic Guide embeds each template's
shared features and pools the set by min / max / avg into a language code (Sec. III-B), the
Language Mapper meta-maps the code to the weights of a dynamic 1x1 convolution (Sec. III-C), and
the Text Finder applies those weights to a region's shared features to score it for that language
(Sec. III-D). Adding a language is a forward pass over its templates; no gradient step.

Where this differs from the paper: the shared features are those of the frozen PP-OCRv4
recogniser's backbone (:mod:`perception.vision.recognizer`), pooled over each detected region,
not a detector's whole-image feature map, so each region's "text map" is a single cell. Two
earlier designs were measured and replaced (docs/vision.md): a whole-image finder over frozen
PP-OCRv4 detector features (0.10 seen-language accuracy) and a crop CNN trained here from scratch,
which named wrong scripts on a real photo. The dynamic kernel is unit length and the finder's
response is a scaled cosine; a learned "unknown" logit competes with the languages, which is
MENTOR's no-confident-map outcome. This module knows tensors only: not fonts, files or images.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perception.errors import ConfigError
from perception.vision.recognizer import FEATURE_DIM


@dataclass(frozen=True)
class MentorConfig:
    """Sizes of MENTOR's modules; saved beside the weights so a checkpoint rebuilds itself.

    embed_dim: channels of the shared embedding the dynamic kernels act on.
    dropout: on the recogniser features while training (they are 960-wide and the seen
        languages few; without it, held-out languages fall toward their nearest seen script).
    scale: the Text Finder's logit per unit of cosine.
    """

    feature_dim: int = FEATURE_DIM
    embed_dim: int = 256
    dropout: float = 0.5
    scale: float = 10.0
    templates_per_language: int = 8

    def __post_init__(self) -> None:
        if self.embed_dim < 1 or self.feature_dim < 1:
            raise ConfigError(
                f"mentor.embed_dim and feature_dim must be >= 1, got {self.embed_dim}, "
                f"{self.feature_dim}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"mentor.dropout must be in [0, 1), got {self.dropout}")


class Standardize(nn.Module):
    """Per-channel (x - mean) / std with statistics fitted once on training features (buffers,
    so they travel in the state dict)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    @torch.no_grad()
    def fit(self, features: torch.Tensor) -> None:
        self.mean.copy_(features.mean(0))
        self.std.copy_(features.std(0) + 1e-4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class SharedEmbedding(nn.Module):
    """Region or template features (N, F) → the shared embedding (N, D) both paths use."""

    def __init__(self, cfg: MentorConfig) -> None:
        super().__init__()
        self.scaler = Standardize(cfg.feature_dim)
        self.net = nn.Sequential(
            nn.Dropout(cfg.dropout), nn.Linear(cfg.feature_dim, cfg.embed_dim)
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(self.scaler(features))


class DynamicGuide(nn.Module):
    """K templates' features (K, F) → language code (3D,): min / max / avg over the set of
    their embeddings (Sec. III-B); order-free, any K."""

    def __init__(self, embed: SharedEmbedding) -> None:
        super().__init__()
        self.embed = embed

    def forward(self, templates: torch.Tensor) -> torch.Tensor:
        e = self.embed(templates)
        return torch.cat([e.min(0).values, e.max(0).values, e.mean(0)], -1)


class LanguageMapper(nn.Module):
    """Language codes (L, 3D) → unit dynamic-conv kernels (L, D): the templates' mean embedding
    plus a learned correction from the whole code."""

    def __init__(self, cfg: MentorConfig) -> None:
        super().__init__()
        d = cfg.embed_dim
        self.mlp = nn.Sequential(nn.Linear(3 * d, d), nn.ReLU(inplace=True), nn.Linear(d, d))

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        mean = codes[..., -codes.shape[-1] // 3 :]
        return F.normalize(mean + self.mlp(codes), dim=-1)


class TextFinder(nn.Module):
    """Region embeddings (B, D) and kernels (L, D) → per-language responses (B, L): a 1x1
    dynamic convolution over the region's (unit-length) embedding, times ``scale``."""

    def __init__(self, cfg: MentorConfig) -> None:
        super().__init__()
        self.scale = cfg.scale

    def forward(self, embedded: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
        return self.scale * F.normalize(embedded, dim=-1) @ kernels.T


class Mentor(nn.Module):
    """The modules together. ``kernels`` is the no-gradient path that adds a language;
    ``forward`` scores regions' features against precomputed kernels."""

    def __init__(self, cfg: MentorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = SharedEmbedding(cfg)
        self.guide = DynamicGuide(self.embed)
        self.mapper = LanguageMapper(cfg)
        self.finder = TextFinder(cfg)
        # the "no language map is confident" outcome, a logit beside the L languages
        self.unknown_logit = nn.Parameter(torch.zeros(()))

    def kernels(self, templates: list[torch.Tensor]) -> torch.Tensor:
        """Per language, its templates' features (K, F) → dynamic-conv kernels (L, D)."""
        return self.mapper(torch.stack([self.guide(t) for t in templates]))

    def forward(self, features: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
        """Region logits (B, L + 1) of region features (B, F): one per language, then the
        unknown logit (last column)."""
        scores = self.finder(self.embed(features), kernels)
        unknown = torch.zeros_like(scores[:, :1]) + self.unknown_logit  # traces with any batch
        return torch.cat([scores, unknown], 1)
