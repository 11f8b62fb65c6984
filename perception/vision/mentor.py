"""MENTOR's three modules (Lin et al., "MENTOR: Multilingual tExt detectioN TOward leaRning by
analogy", IROS 2023): Dynamic Guide, Language Mapper and Text Finder, in torch.

A language enters only through K printed-text templates: the Dynamic Guide turns them into a
language code (CNN features per template, then min / max / avg pooling over the set, Sec. III-B),
the Language Mapper meta-maps the code to the weights of a small dynamic convolution
(Sec. III-C), and the Text Finder applies those weights to shared features to give one text map
per language (Sec. III-D). Adding a language is a forward pass over its templates; no gradient.

Where this differs from the paper: the Text Finder runs on each detected region, rectified to a
32x128 crop (the shape of a template), not on the whole image's feature map. The guide and the
finder share one region encoder, so templates and scene text are embedded by the same weights in
the same frame. A whole-image finder over frozen PP-OCRv4 features was built first and did not
learn language: 0.10 region accuracy on seen languages after 3000 episodes (README, MENTOR).
A region's score for a language is its map's mean over the crop's ink cells; a learned
"unknown" logit competes with the languages, which is MENTOR's no-confident-map outcome.
This module knows tensors only: not fonts, files, images or training loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perception.errors import ConfigError

# A 4x4 cell of a crop counts as ink (where region scores are read) above this value.
INK_LEVEL = 0.2
CELL_PX = 4


@dataclass(frozen=True)
class MentorConfig:
    """Sizes of MENTOR's modules; saved beside the weights so a checkpoint rebuilds itself."""

    channels: int = 64
    dynamic_hidden: int = 16
    code_dim: int = 128
    templates_per_language: int = 8

    def __post_init__(self) -> None:
        # the encoder's first layer has channels / 4 outputs in 4 GroupNorm groups
        if self.channels % 16:
            raise ConfigError(f"mentor.channels must be a multiple of 16, got {self.channels}")

    @property
    def kernel_size(self) -> int:
        """Parameters of one language's dynamic conv: 1x1 (C → hidden), ReLU, 1x1 (hidden → 1)."""
        c, k = self.channels, self.dynamic_hidden
        return k * c + k + k + 1


def _conv(cin: int, cout: int, pool: bool, dilation: int = 1) -> nn.Sequential:
    # GroupNorm, not BatchNorm: the guide sees one language's template set as a "batch", whose
    # statistics would otherwise leak into BatchNorm's running averages
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, 3, 1, dilation, dilation, bias=False),
        nn.GroupNorm(4, cout),
        nn.ReLU(inplace=True),
    ]
    return nn.Sequential(*layers, nn.MaxPool2d(2)) if pool else nn.Sequential(*layers)


def ink_cells(crops: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) crops in [0, 1] (1 = ink) → (N, 1, H/4, W/4) 1.0 where a cell holds ink."""
    return (F.max_pool2d(crops, CELL_PX) > INK_LEVEL).float()


def masked_pool(f: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(N, C, h, w) features, (N, 1, h, w) mask → (N, 2C): mean and max over the mask."""
    mean = (f * mask).sum((2, 3)) / mask.sum((2, 3)).clamp_min(1.0)
    peak = (f * mask).amax((2, 3))
    return torch.cat([mean, peak], 1)


class RegionEncoder(nn.Module):
    """Crops (N, 1, H, W), ink = 1 on 0 → shared features (N, C, H/4, W/4).

    Two pooled and two dilated 3x3 layers: a receptive field of about 40 px, more than the crop's
    32 px height, so each cell sees whole glyphs.
    """

    def __init__(self, cfg: MentorConfig) -> None:
        super().__init__()
        c = cfg.channels
        self.net = nn.Sequential(
            _conv(1, c // 4, True), _conv(c // 4, c // 2, True), _conv(c // 2, c, False),
            _conv(c, c, False, 2),
        )  # fmt: skip

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return self.net(crops)


class DynamicGuide(nn.Module):
    """K templates (K, 1, H, W) → language code (code_dim,).

    Each template's shared features are pooled over its ink (mean and max), then the set is
    pooled by min / max / avg over the K templates (Sec. III-B): order-free, any K.
    """

    def __init__(self, cfg: MentorConfig, encoder: RegionEncoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.project = nn.Sequential(nn.Linear(6 * cfg.channels, cfg.code_dim), nn.ReLU(True))

    def forward(self, templates: torch.Tensor) -> torch.Tensor:
        per_template = masked_pool(self.encoder(templates), ink_cells(templates))  # (K, 2C)
        pooled = torch.cat(
            [per_template.min(0).values, per_template.max(0).values, per_template.mean(0)]
        )  # (6C,)
        return self.project(pooled)


class LanguageMapper(nn.Module):
    """Language codes (L, code_dim) → flat dynamic-conv parameters (L, kernel_size)."""

    def __init__(self, cfg: MentorConfig) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(cfg.code_dim, cfg.code_dim),
            nn.ReLU(inplace=True),
            nn.Linear(cfg.code_dim, cfg.kernel_size),
        )

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.mlp(codes)


class TextFinder(nn.Module):
    """Shared features (B, C, h, w) and kernels (L, P) → per-language text maps (B, L, h, w)."""

    def __init__(self, cfg: MentorConfig) -> None:
        super().__init__()
        self.cfg = cfg

    def forward(self, f: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
        c, k = self.cfg.channels, self.cfg.dynamic_hidden
        n = kernels.shape[0]
        w1 = kernels[:, : k * c].reshape(n, k, c)
        b1 = kernels[:, k * c : k * c + k]
        w2 = kernels[:, k * c + k : k * c + 2 * k]
        b2 = kernels[:, k * c + 2 * k]
        hidden = torch.relu(torch.einsum("bchw,lkc->blkhw", f, w1) + b1[None, :, :, None, None])
        return torch.einsum("blkhw,lk->blhw", hidden, w2) + b2[None, :, None, None]


class Mentor(nn.Module):
    """The modules together. ``kernels`` is the no-gradient path that adds a language;
    ``forward`` scores region crops against precomputed kernels."""

    def __init__(self, cfg: MentorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = RegionEncoder(cfg)
        self.guide = DynamicGuide(cfg, self.encoder)
        self.mapper = LanguageMapper(cfg)
        self.finder = TextFinder(cfg)
        # the "no language map is confident" outcome, a logit beside the L languages
        self.unknown_logit = nn.Parameter(torch.zeros(()))

    def kernels(self, templates: list[torch.Tensor]) -> torch.Tensor:
        """Per language, its templates (K, 1, H, W) → dynamic-conv kernels (L, kernel_size)."""
        return self.mapper(torch.stack([self.guide(t) for t in templates]))

    def maps(self, crops: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
        """Per-language text maps (B, L, H/4, W/4) of region crops (B, 1, H, W)."""
        return self.finder(self.encoder(crops), kernels)

    def forward(self, crops: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
        """Region logits (B, L + 1) of crops (B, 1, H, W): see :meth:`region_logits`."""
        return self.region_logits(self.encoder(crops), ink_cells(crops), kernels)

    def region_logits(
        self, features: torch.Tensor, ink: torch.Tensor, kernels: torch.Tensor
    ) -> torch.Tensor:
        """Each language map's mean over the crop's ink cells, then the unknown logit (last
        column); from encoder features (B, C, h, w) and ink cells (B, 1, h, w)."""
        maps = self.finder(features, kernels)
        scores = (maps * ink).sum((2, 3)) / ink.sum((2, 3)).clamp_min(1.0)
        unknown = torch.zeros_like(scores[:, :1]) + self.unknown_logit  # traces with any batch
        return torch.cat([scores, unknown], 1)
