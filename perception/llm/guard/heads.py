"""Small heads over frozen features: logistic regression, Platt calibration, thresholds.

Owns fitting a head (class-balanced, L2-regularised logistic regression on standardised
features, by L-BFGS), calibrating its logit into a probability on dev data (Platt scaling:
p = sigmoid(a·z + b)), and choosing the flag threshold for a stated false-positive rate on benign
dev scores. It knows nothing about texts or tasks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Head:
    """A fitted detector head; ``threshold`` applies to the calibrated probability."""

    mean: np.ndarray  # (D,) feature means of the training data
    scale: np.ndarray  # (D,) feature standard deviations (floored)
    weight: np.ndarray  # (D,)
    bias: float
    platt_a: float = 1.0
    platt_b: float = 0.0
    threshold: float = 0.5

    def logit(self, x: np.ndarray) -> np.ndarray:
        """(B,) raw logits of (B, D) features."""
        return ((x - self.mean) / self.scale) @ self.weight + self.bias

    def prob(self, x: np.ndarray) -> np.ndarray:
        """(B,) calibrated probabilities of (B, D) features."""
        return sigmoid(self.platt_a * self.logit(x) + self.platt_b)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def _lbfgs(params: list[torch.Tensor], loss_fn, steps: int = 200) -> None:
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    opt.step(closure)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> Head:
    """Class-balanced logistic regression; ``l2`` is the weight penalty per training row."""
    mean, scale = x.mean(0), np.maximum(x.std(0), 1e-3)
    xs = torch.from_numpy(((x - mean) / scale).astype(np.float32))
    ys = torch.from_numpy(y.astype(np.float32))
    pos = max(float(ys.mean()), 1e-6)
    weights = torch.where(ys > 0, 0.5 / pos, 0.5 / max(1 - pos, 1e-6))
    w = torch.zeros(xs.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)

    def loss():
        z = xs @ w + b
        nll = torch.nn.functional.binary_cross_entropy_with_logits(z, ys, weight=weights)
        return nll + l2 * (w * w).sum()

    _lbfgs([w, b], loss)
    return Head(mean, scale, w.detach().numpy().copy(), float(b.detach()))


def fit_platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) of p = sigmoid(a·z + b) that minimise the log-loss on dev against Platt's (1999)
    smoothed targets (N+ + 1) / (N+ + 2) and 1 / (N- + 2), so that separable dev data gives a
    finite slope instead of probabilities saturated at 0 and 1; (1, 0) when ``y`` has one class
    (a fit there could flip the sign and turn the ranking upside down)."""
    pos, neg = float(y.sum()), float(len(y) - y.sum())
    if not pos or not neg:  # one class only (a fold whose dev split lacks positives): no fit
        return 1.0, 0.0
    z = torch.from_numpy(logits.astype(np.float32))
    targets = np.where(y > 0, (pos + 1) / (pos + 2), 1 / (neg + 2))
    ys = torch.from_numpy(targets.astype(np.float32))
    a, b = torch.ones(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    _lbfgs([a, b], lambda: torch.nn.functional.binary_cross_entropy_with_logits(a * z + b, ys))
    return float(a.detach()), float(b.detach())


def threshold_at_fpr(negative_scores: np.ndarray, fpr: float) -> float:
    """The lowest threshold at which at most ``fpr`` of ``negative_scores`` are >= it."""
    scores = np.asarray(negative_scores)
    ranked = np.sort(scores.astype(np.result_type(scores.dtype, np.float32)))[::-1]
    allowed = int(np.floor(fpr * len(ranked)))
    if allowed >= len(ranked):
        return 0.0
    # the next value up in the scores' own precision: float32 scores compare in float32
    return float(np.nextafter(ranked[allowed], ranked.dtype.type(np.inf)))
