"""Zeroth-order optimisers (ZO-Bench's family) and forward-gradient descent for fine-tuning in
inference memory.

The ZO optimisers estimate the gradient from two losses at θ ± mu·z along a random direction z
and never run backward. MeZO's seed trick: z is drawn from a generator reseeded with the step's
seed each time it is needed (perturb +, perturb −, restore, update), so no perturbation is
stored and the extra memory is one parameter-sized draw at a time. Block-wise perturbation moves
one parameter tensor per step, cycling through them. Momentum and Adam keep their usual
parameter-sized buffers (small for an adapter). Forward gradient replaces the two losses by one
Jacobian-vector product (``torch.func.jvp``): the exact directional derivative along z.

Optimisers see parameters and a loss closure only; they know nothing about models or data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

from perception.config import check

Method = Literal["zo-sgd", "zo-sign", "zo-momentum", "zo-adam", "forward-grad"]
METHODS: tuple[Method, ...] = ("zo-sgd", "zo-sign", "zo-momentum", "zo-adam", "forward-grad")


@dataclass(frozen=True)
class ZoOptions:
    """Method, learning rate, perturbation scale and the buffers' decay rates."""

    method: Method = "zo-sgd"
    lr: float = 1e-3
    mu: float = 1e-3  # θ ± mu·z (MeZO's epsilon)
    momentum: float = 0.9  # zo-momentum
    beta2: float = 0.999  # zo-adam (beta1 = momentum)
    adam_eps: float = 1e-8
    blockwise: bool = False  # perturb one parameter tensor per step
    seed: int = 0

    def __post_init__(self) -> None:
        check(self.method in METHODS, f"method must be one of {METHODS}, got {self.method!r}")
        check(self.lr > 0 and self.mu > 0, "lr and mu must be > 0")
        check(0 <= self.momentum < 1 and 0 <= self.beta2 < 1, "decay rates must be in [0, 1)")


class ZeroOrder:
    """ZO-SGD, ZO-SGD-Sign, ZO-SGD with momentum, ZO-Adam and forward gradient over ``params``.

    ``step(loss)`` takes a closure: for the ZO methods ``loss()`` evaluates the model at the
    parameters' current (perturbed) values; for forward-grad ``loss(values)`` evaluates it at the
    given tensors (one per parameter, e.g. through ``torch.func.functional_call``).
    """

    def __init__(self, params: list[torch.nn.Parameter], options: ZoOptions) -> None:
        check(len(params) > 0, "ZeroOrder needs at least one parameter")
        self.params, self.options = list(params), options
        self.t = 0
        self.seeds = torch.Generator().manual_seed(options.seed)
        self.m = [torch.zeros_like(p) for p in self.params] if self._buffers() >= 1 else []
        self.v = [torch.zeros_like(p) for p in self.params] if self._buffers() == 2 else []

    def _buffers(self) -> int:
        return {"zo-momentum": 1, "zo-adam": 2}.get(self.options.method, 0)

    def _block(self) -> list[int]:
        if not self.options.blockwise:
            return list(range(len(self.params)))
        return [self.t % len(self.params)]

    def _z(self, seed: int, i: int) -> torch.Tensor:
        # the same (seed, i) always gives the same direction: nothing is stored between uses
        g = torch.Generator().manual_seed(seed * 1_000_003 + i)
        p = self.params[i]
        return torch.randn(p.shape, generator=g, dtype=p.dtype).to(p.device)

    @torch.no_grad()
    def _perturb(self, block: list[int], seed: int, scale: float) -> None:
        for i in block:
            self.params[i].add_(self._z(seed, i), alpha=scale)

    def step(self, loss: Callable) -> float:
        """One update; returns the loss at the parameters before it (mean of the two ZO losses)."""
        block, seed = self._block(), int(torch.randint(2**31 - 1, (1,), generator=self.seeds))
        if self.options.method == "forward-grad":
            value, grad_along_z = self._jvp(loss, block, seed)
        else:
            mu = self.options.mu
            with torch.no_grad():
                self._perturb(block, seed, mu)
                plus = float(loss())
                self._perturb(block, seed, -2 * mu)
                minus = float(loss())
                self._perturb(block, seed, mu)
            value, grad_along_z = (plus + minus) / 2, (plus - minus) / (2 * mu)
        self.t += 1
        self._update(block, seed, grad_along_z)
        return value

    def _jvp(self, loss: Callable, block: list[int], seed: int) -> tuple[float, float]:
        primals = tuple(p.detach() for p in self.params)
        tangents = tuple(
            self._z(seed, i) if i in block else torch.zeros_like(p)
            for i, p in enumerate(self.params)
        )
        value, derivative = torch.func.jvp(lambda *ts: loss(ts), primals, tangents)
        return float(value), float(derivative)

    @torch.no_grad()
    def _update(self, block: list[int], seed: int, grad_along_z: float) -> None:
        o = self.options
        for i in block:
            p, g = self.params[i], self._z(seed, i) * grad_along_z  # gradient estimate
            if o.method == "zo-sign":
                p.add_(g.sign(), alpha=-o.lr)
            elif o.method == "zo-momentum":
                self.m[i].mul_(o.momentum).add_(g)
                p.add_(self.m[i], alpha=-o.lr)
            elif o.method == "zo-adam":
                self.m[i].mul_(o.momentum).add_(g, alpha=1 - o.momentum)
                self.v[i].mul_(o.beta2).addcmul_(g, g, value=1 - o.beta2)
                m_hat = self.m[i] / (1 - o.momentum**self.t)
                v_hat = self.v[i] / (1 - o.beta2**self.t)
                p.addcdiv_(m_hat, v_hat.sqrt().add_(o.adam_eps), value=-o.lr)
            else:  # zo-sgd and forward-grad
                p.add_(g, alpha=-o.lr)
