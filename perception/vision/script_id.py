"""The script-ID baseline: a crop classifier over the seen languages only.

This module owns the baseline that MENTOR is measured against on unseen languages: each
detected region's features (the same frozen recogniser backbone features MENTOR uses) are
classified into one of the languages seen in training. It cannot name a language it was not
trained on, by construction; with the features shared, the gap between it and MENTOR is what the
templates add. It does not know crops or training loops.
"""

from __future__ import annotations

import torch
from torch import nn

from perception.vision.mentor import Standardize
from perception.vision.recognizer import FEATURE_DIM


class ScriptIdNet(nn.Module):
    """Region features (B, F) → (B, n_classes) logits: standardised, dropout, linear."""

    def __init__(self, n_classes: int, feature_dim: int = FEATURE_DIM, dropout: float = 0.5):
        super().__init__()
        self.scaler = Standardize(feature_dim)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, n_classes))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.scaler(features))
