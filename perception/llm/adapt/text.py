"""Plain-text language-modelling batches and losses for the adaptation experiments.

Owns tokenising sentences into right-padded batches (labels = ids, padding ignored) and the
mean next-token loss over real tokens. It knows nothing about adapters or optimisers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from perception.speech.dataset import split_sentences, train_sentences

IGNORE = -100


@dataclass(frozen=True)
class TextBatch:
    """Token ids (B, T), attention mask (B, T) and labels (B, T, IGNORE on padding)."""

    ids: torch.Tensor
    mask: torch.Tensor
    labels: torch.Tensor


def batches(tokenizer, texts: list[str], batch_size: int) -> list[TextBatch]:
    """``texts`` in order, ``batch_size`` sentences per batch, right-padded."""
    out = []
    for start in range(0, len(texts), batch_size):
        enc = tokenizer(texts[start : start + batch_size], return_tensors="pt", padding=True)
        labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, IGNORE)
        out.append(TextBatch(enc["input_ids"], enc["attention_mask"], labels))
    return out


def loss(model: torch.nn.Module, batch: TextBatch) -> torch.Tensor:
    """Mean next-token cross-entropy over the batch's real tokens."""
    return model(input_ids=batch.ids, attention_mask=batch.mask, labels=batch.labels).loss


@torch.no_grad()
def mean_loss(model: torch.nn.Module, data: list[TextBatch]) -> float:
    """Token-weighted mean next-token loss over ``data``."""
    total, count = 0.0, 0
    for b in data:
        n = int((b.labels[:, 1:] != IGNORE).sum())
        total, count = total + float(loss(model, b)) * n, count + n
    return total / max(count, 1)


def speech_text_splits(seed: int = 0) -> dict[str, list[str]]:
    """Sentences for text-only adaptation: ``train`` = the corpus sentences in no speech split
    (so nothing from calibration / dev / test), ``dev`` = the speech dev split's sentences."""
    from perception.speech.corpus import TRAIN_GENERAL

    # the adaptation tables were measured before TRAIN_GENERAL was written; they keep that text
    train = [t for t, _ in train_sentences(seed) if t not in TRAIN_GENERAL]
    return {"train": train, "dev": [t for t, _ in split_sentences(seed)["dev"]]}
