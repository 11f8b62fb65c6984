"""The visual speech model: mouth-crop sequences at 25 Hz → per step (a) is this face speaking
and (b) which command word it is saying (or none).

A per-frame CNN over the crop and its difference from the previous crop (motion), then a
bidirectional GRU over time, then two heads. Trained with cross-entropy against the renderer's
word and activity timings (:func:`perception.avsr.dataset.frame_labels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


class VisualSpeechNet(nn.Module):
    """(B, T, 32, 32) crops in [0, 1] → activity logits (B, T, 2), word logits (B, T, V + 1)."""

    def __init__(self, n_words: int, hidden: int = 96) -> None:
        super().__init__()
        self.n_words = n_words

        def block(i: int, o: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)
            )

        self.frame = nn.Sequential(
            block(2, 16),
            block(16, 32),
            block(32, 64),
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, 128),
            nn.ReLU(),
        )
        self.gru = nn.GRU(
            128, hidden, num_layers=2, batch_first=True, bidirectional=True, dropout=0.1
        )
        self.active = nn.Linear(2 * hidden, 2)
        self.words = nn.Linear(2 * hidden, n_words + 1)

    def forward(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, t = crops.shape[:2]
        x = (crops - crops.mean(dim=(1, 2, 3), keepdim=True)) / (
            crops.std(dim=(1, 2, 3), keepdim=True) + 1e-3
        )
        motion = torch.cat([torch.zeros_like(x[:, :1]), x[:, 1:] - x[:, :-1]], 1)
        feats = self.frame(torch.stack([x, motion], 2).reshape(b * t, 2, 32, 32)).reshape(b, t, -1)
        h, _ = self.gru(feats)
        return self.active(h), self.words(h)


@dataclass(frozen=True)
class VisualOutput:
    """What the visual model says about one clip, per 25 Hz step (raw logits, uncalibrated)."""

    activity_logits: np.ndarray  # (T, 2)
    word_logits: np.ndarray  # (T, V + 1), column 0 = no word

    def activity(self, temperature: float = 1.0) -> np.ndarray:
        """(T,) probability that the face is speaking, at a temperature."""
        z = self.activity_logits / temperature
        z = z - z.max(1, keepdims=True)
        p = np.exp(z)
        return p[:, 1] / p.sum(1)


@torch.no_grad()
def run(net: VisualSpeechNet, crops: np.ndarray) -> VisualOutput:
    """The model over one clip's (T, 32, 32) uint8 crops."""
    x = torch.from_numpy(crops.astype(np.float32) / 255.0)[None]
    a, w = net.eval()(x)
    return VisualOutput(a[0].numpy(), w[0].numpy())


def pad_batch(seqs: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack variable-length arrays, padding at the end; and a (B, T) mask of real steps."""
    t = max(len(s) for s in seqs)
    out = np.zeros((len(seqs), t, *seqs[0].shape[1:]), seqs[0].dtype)
    mask = np.zeros((len(seqs), t), bool)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
        mask[i, : len(s)] = True
    return torch.from_numpy(out), torch.from_numpy(mask)
