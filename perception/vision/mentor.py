"""MENTOR's three modules (Lin et al., "MENTOR: Multilingual tExt detectioN TOward leaRning by
analogy", IROS 2023): Dynamic Guide, Language Mapper and Text Finder, in torch.

A language enters only through K printed-text templates: the Dynamic Guide turns them into a
language code (CNN features per template, then min / max / avg pooling over the set, Sec. III-B;
here the CNN is the frozen detector backbone plus the Text Finder's embedding, shared), the
Language Mapper meta-maps the code to the weights of a small dynamic convolution (Sec. III-C), and
the Text Finder applies those weights to the shared detector features to give one text map per
language (Sec. III-D). Adding a language is a forward pass over its templates; no gradient step.
This module knows tensors only: not fonts, files, images or training loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class MentorConfig:
    """Sizes of MENTOR's modules; saved beside the weights so a checkpoint rebuilds itself."""

    feature_channels: int = 96
    encoder_channels: int = 32
    finder_channels: int = 32
    dynamic_hidden: int = 16
    code_dim: int = 128
    templates_per_language: int = 8

    @property
    def kernel_size(self) -> int:
        """Parameters of one language's dynamic conv: 1x1 (C → hidden), ReLU, 1x1 (hidden → 1)."""
        c, k = self.finder_channels, self.dynamic_hidden
        return k * c + k + k + 1


def _conv(cin: int, cout: int, dilation: int = 1, stride: int = 1) -> nn.Sequential:
    # GroupNorm, not BatchNorm: the embedding also sees one language's template set as a
    # "batch", whose statistics would otherwise leak into BatchNorm's running averages
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, dilation, dilation, bias=False),
        nn.GroupNorm(4, cout),
        nn.ReLU(inplace=True),
    )


class PixelEncoder(nn.Module):
    """Normalised image (B, 3, H, W) → stroke features (B, encoder_channels, H/4, W/4).

    The frozen PP-OCRv4 features tell text from background but keep little of the script: a
    linear probe on them names the language of a held-out text pixel 10.6 % of the time
    (24 languages, chance 4.2 %; measured here). This small trainable branch (dilations 1, 2, 4:
    a ~60 px receptive field, about one glyph) supplies the shape cues MENTOR's maps need.
    """

    def __init__(self, cfg: MentorConfig) -> None:
        super().__init__()
        c = cfg.encoder_channels
        self.net = nn.Sequential(
            _conv(3, c // 2, stride=2), _conv(c // 2, c, stride=2), _conv(c, c, 2), _conv(c, c, 4)
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image)


class DynamicGuide(nn.Module):
    """K templates → language code (code_dim,).

    The templates pass through the same feature extractors as scenes (frozen detector backbone,
    pixel encoder, Text Finder embedding: shared weights), so a language's code is computed in
    the space its scene text lives in; a masked average and max per template (over its ink),
    then min / max / avg over the K templates (Sec. III-B).
    """

    def __init__(self, cfg: MentorConfig, embed: nn.Module) -> None:
        super().__init__()
        self.embed = embed
        self.project = nn.Sequential(
            nn.Linear(6 * cfg.finder_channels, cfg.code_dim), nn.ReLU(inplace=True)
        )

    def forward(self, features: torch.Tensor, ink: torch.Tensor) -> torch.Tensor:
        """features (K, 96 + E, h, w) of the templates, ink (K, 1, h, w) in [0, 1]."""
        f = self.embed(features)  # (K, C, h, w)
        weight = ink / ink.sum((2, 3), keepdim=True).clamp_min(1e-6)
        mean = (f * weight).sum((2, 3))  # (K, C)
        peak = (f * (ink > 0.5)).amax((2, 3))  # (K, C)
        per_template = torch.cat([mean, peak], 1)  # (K, 2C)
        # set pooling (Sec. III-B): order-free, any K; min and max keep rare strokes visible
        pooled = torch.cat(
            [per_template.min(0).values, per_template.max(0).values, per_template.mean(0)]
        )  # (6C,)
        return self.project(pooled)


class LanguageMapper(nn.Module):
    """Language code (L, code_dim) → flat dynamic-conv parameters (L, kernel_size)."""

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
    """Shared features (B, 96 + E, h, w) and kernels (L, P) → per-language logits (B, L, h, w)."""

    def __init__(self, cfg: MentorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        # dilation 2 in the second conv: a 7x7-cell (28 px) context, about one glyph
        self.embed = nn.Sequential(
            _conv(cfg.feature_channels + cfg.encoder_channels, 64),
            _conv(64, cfg.finder_channels, 2),
        )

    def forward(self, features: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
        c, k = self.cfg.finder_channels, self.cfg.dynamic_hidden
        f = self.embed(features)  # (B, C, h, w)
        n = kernels.shape[0]
        w1 = kernels[:, : k * c].reshape(n, k, c)
        b1 = kernels[:, k * c : k * c + k]
        w2 = kernels[:, k * c + k : k * c + 2 * k]
        b2 = kernels[:, k * c + 2 * k]
        hidden = torch.relu(torch.einsum("bchw,lkc->blkhw", f, w1) + b1[None, :, :, None, None])
        return torch.einsum("blkhw,lk->blhw", hidden, w2) + b2[None, :, None, None]


class Mentor(nn.Module):
    """The modules together; ``kernels`` is the no-gradient path that adds a language.

    Inputs everywhere are the frozen detector's features (B, 96, h, w) and the normalised image
    (B, 3, 4h, 4w) they came from; :meth:`shared` joins them into the Text Finder's input.
    """

    def __init__(self, cfg: MentorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = PixelEncoder(cfg)
        self.finder = TextFinder(cfg)
        self.guide = DynamicGuide(cfg, self.finder.embed)
        self.mapper = LanguageMapper(cfg)

    def shared(self, features: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        """(B, 96, h, w), (B, 3, 4h, 4w) → (B, 96 + E, h, w)."""
        return torch.cat([features, self.encoder(image)], 1)

    def kernels(
        self, templates: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
    ) -> torch.Tensor:
        """Per language, (features (K, 96, h, w), image (K, 3, 4h, 4w), ink (K, 1, h, w)) of its
        templates → dynamic-conv kernels (L, kernel_size)."""
        codes = torch.stack([self.guide(self.shared(f, x), ink) for f, x, ink in templates])
        return self.mapper(codes)  # (L, kernel_size)

    def maps(
        self, features: torch.Tensor, image: torch.Tensor, kernels: torch.Tensor
    ) -> torch.Tensor:
        """Per-language logits (B, L, h, w) for precomputed kernels."""
        return self.finder(self.shared(features, image), kernels)

    def forward(
        self, features: torch.Tensor, image: torch.Tensor, templates: list
    ) -> torch.Tensor:
        return self.maps(features, image, self.kernels(templates))
