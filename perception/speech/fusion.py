"""UADF's arithmetic: temperature calibration and uncertainty-weighted fusion (Chen et al.,
"It's Never Too Late: Fusing Acoustic Information into Large Language Models for Automatic Speech
Recognition", ICLR 2024).

Owns the formulas only, on tensors; the decoding loops that call them live in
:mod:`perception.speech.uadf`.

- Calibration: one temperature T per model, chosen by bisection in [0.1, 10] so that the mean
  max-softmax confidence of softmax(logits / T) equals the model's token accuracy on a
  calibration split (accuracy does not depend on T; confidence falls as T rises).
- Fusion at each step: p = p_llm + (sigmoid(H) − 0.5) · p_asr, with H the natural-log entropy of
  the calibrated LLM distribution: a confident LLM (H → 0) gets no acoustic help, an uncertain one
  up to 0.5 · p_asr.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

T_MIN, T_MAX = 0.1, 10.0


def entropy_nats(probs: torch.Tensor) -> torch.Tensor:
    """Entropy in nats over the last axis; 0·log 0 counts as 0."""
    logs = torch.where(probs > 0, probs.log(), torch.zeros_like(probs))
    return -(probs * logs).sum(-1)


def uadf_weight(p_llm: torch.Tensor) -> torch.Tensor:
    """sigmoid(H(p_llm)) − 0.5: 0 for a one-hot LLM distribution, → 0.5 as it flattens."""
    return torch.sigmoid(entropy_nats(p_llm)) - 0.5


def fuse(p_llm: torch.Tensor, p_asr: torch.Tensor, weight: torch.Tensor | float) -> torch.Tensor:
    """p_llm + weight · p_asr (scores to take the arg-max of; not renormalised)."""
    return p_llm + weight * p_asr


@dataclass(frozen=True)
class Calibration:
    """A fitted temperature and what it did on the calibration split."""

    temperature: float
    token_accuracy: float
    confidence_before: float
    confidence_after: float
    ece_before: float
    ece_after: float
    tokens: int


def mean_confidence(logits: torch.Tensor, temperature: float) -> float:
    """Mean max-softmax probability of (N, V) logits at a temperature."""
    return torch.softmax(logits / temperature, dim=-1).max(-1).values.mean().item()


def expected_calibration_error(
    logits: torch.Tensor, targets: torch.Tensor, temperature: float, bins: int = 10
) -> float:
    """ECE with equal-width confidence bins (weighted mean |accuracy − confidence|)."""
    conf, pred = torch.softmax(logits / temperature, dim=-1).max(-1)
    correct = (pred == targets).float()
    edges = torch.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            ece += inside.float().mean().item() * abs(
                correct[inside].mean().item() - conf[inside].mean().item()
            )
    return ece


def fit_temperature(logits: torch.Tensor, targets: torch.Tensor, steps: int = 40) -> Calibration:
    """Bisection for T in [0.1, 10] with mean confidence equal to token accuracy.

    Args:
        logits: (N, V) next-token logits at N teacher-forced positions.
        targets: (N,) the reference token at each position.
    """
    if logits.shape[0] == 0:
        raise ValueError("calibration needs at least one token; the calibration split is empty")
    logits = logits.float()
    accuracy = (logits.argmax(-1) == targets).float().mean().item()
    lo, hi = T_MIN, T_MAX
    if mean_confidence(logits, lo) <= accuracy:
        t = lo  # under-confident even when sharpened the most: clamp
    elif mean_confidence(logits, hi) >= accuracy:
        t = hi
    else:
        for _ in range(steps):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if mean_confidence(logits, mid) > accuracy else (lo, mid)
        t = (lo + hi) / 2
    return Calibration(
        temperature=t,
        token_accuracy=accuracy,
        confidence_before=mean_confidence(logits, 1.0),
        confidence_after=mean_confidence(logits, t),
        ece_before=expected_calibration_error(logits, targets, 1.0),
        ece_after=expected_calibration_error(logits, targets, t),
        tokens=int(logits.shape[0]),
    )
