"""DEFT activation sparsity for gated-SiLU MLPs (Llama / SmolLM2): the density loss added during
PEFT, the density measure, and a sparse MLP that computes only the active neurons.

The activation is the gate branch ``a = silu(gate_proj(x))`` (shape (..., d_ff)); a neuron is
active for a token when ``|a| > tau``. We sparsify the gate branch rather than the product
``a * up_proj(x)`` because ``a`` is known after one of the three projections: the sparse MLP
computes the gate in full, then only the active rows of ``up_proj`` and columns of
``down_proj``. Its output equals the dense MLP's with inactive neurons set to zero.

The density loss is DEFT's smooth stand-in for the L0 norm, ``a² / (a² + eps)`` averaged over
tokens and neurons (near 1 for |a| ≫ sqrt(eps), near 0 for |a| ≪ sqrt(eps)). It knows nothing
about the task loss it is added to.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perception.config import check


@dataclass(frozen=True)
class DeftOptions:
    """Density loss settings: ``eps`` of a²/(a²+eps), its weight, and the threshold tau."""

    eps: float = 1e-2  # sqrt(eps) = 0.1: activations well below 0.1 count as nearly off
    weight: float = 1.0  # loss = task loss + weight · mean density penalty over MLP layers
    # |a| > tau is active; 0.03 keeps 99.3 % of dev next-token argmaxes (bench_adapt.py deft)
    tau: float = 0.03

    def __post_init__(self) -> None:
        check(self.eps > 0, f"eps must be > 0, got {self.eps}")
        check(self.weight >= 0, f"weight must be >= 0, got {self.weight}")
        check(self.tau >= 0, f"tau must be >= 0, got {self.tau}")


def density_penalty(a: torch.Tensor, eps: float) -> torch.Tensor:
    """Mean of a²/(a²+eps) over all elements: a differentiable density in [0, 1)."""
    sq = a.square()
    return (sq / (sq + eps)).mean()


def is_gated_mlp(module: nn.Module) -> bool:
    """True for a gated MLP block (a module with gate_proj, up_proj, down_proj and act_fn)."""
    return all(hasattr(module, n) for n in ("gate_proj", "up_proj", "down_proj", "act_fn"))


def gated_mlps(model: nn.Module) -> list[nn.Module]:
    """The model's gated MLP blocks, in module order."""
    return [m for m in model.modules() if is_gated_mlp(m)]


class ActivationTap:
    """Forward hooks on each MLP's ``act_fn`` that keep the gate activations of the last forward
    (with their graph, for the density loss), and optionally zero those with |a| <= tau."""

    def __init__(self, model: nn.Module, zero_below: float | None = None) -> None:
        self.activations: list[torch.Tensor] = []
        self.zero_below = zero_below
        self._handles = [m.act_fn.register_forward_hook(self._hook) for m in gated_mlps(model)]
        check(len(self._handles) > 0, "no gated MLP (gate_proj/up_proj/down_proj/act_fn) found")

    def _hook(self, module: nn.Module, inputs: tuple, out: torch.Tensor) -> torch.Tensor:
        if self.zero_below is not None:
            out = out * (out.abs() > self.zero_below)
        self.activations.append(out)
        return out

    def clear(self) -> None:
        self.activations.clear()

    def penalty(self, eps: float) -> torch.Tensor:
        """Mean density penalty over the layers of the last forward."""
        return torch.stack([density_penalty(a, eps) for a in self.activations]).mean()

    def close(self) -> None:
        for h in self._handles:
            h.remove()


@contextmanager
def tapped(model: nn.Module, zero_below: float | None = None) -> Iterator[ActivationTap]:
    """An :class:`ActivationTap` on ``model`` for the duration of the block."""
    tap = ActivationTap(model, zero_below)
    try:
        yield tap
    finally:
        tap.close()


def density(a: torch.Tensor, tau: float, mask: torch.Tensor | None = None) -> float:
    """Fraction of |a| > tau; ``mask`` (..., ) keeps only real tokens (not padding)."""
    active = a.abs() > tau  # (..., d_ff)
    if mask is not None:
        active = active[mask.bool()]
    return float(active.float().mean())


class SparseMLP(nn.Module):
    """A gated-SiLU MLP that computes up/down projections only for neurons with |silu(gate)| > tau.

    Weights are copied from a dense MLP: gate and up as (d_ff, d), down transposed to (d_ff, d)
    so that a neuron's down column is a contiguous row. One token (decoding) gathers its active
    up rows and sums its active down rows with ``embedding_bag`` (no copy); several tokens
    (prefill) gather the union of their active neurons and mask each token's own.
    """

    def __init__(self, mlp: nn.Module, tau: float) -> None:
        super().__init__()
        check(mlp.gate_proj.bias is None, "SparseMLP supports bias-free projections only")
        self.tau = tau
        self.d = mlp.up_proj.in_features
        frozen = lambda w: nn.Parameter(w.detach().clone().contiguous(), requires_grad=False)  # noqa: E731
        self.gate = frozen(mlp.gate_proj.weight)  # (f, d)
        self.up = frozen(mlp.up_proj.weight)  # (f, d)
        self.down_t = frozen(mlp.down_proj.weight.t())  # (f, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(-1, self.d)  # (N, d)
        a = F.silu(F.linear(x, self.gate))  # (N, f)
        on = a.abs() > self.tau  # (N, f)
        if not on.any():  # no neuron above tau for any token: the MLP adds nothing
            return torch.zeros(shape, dtype=x.dtype, device=x.device)
        if x.shape[0] == 1:
            idx = on[0].nonzero().squeeze(1)  # (k,)
            h = a[:, idx] * F.linear(x, self.up.index_select(0, idx))  # (1, k)
            y = F.embedding_bag(idx[None], self.down_t, per_sample_weights=h, mode="sum")
            return y.reshape(shape)  # (1, d) -> (..., d)
        idx = on.any(0).nonzero().squeeze(1)  # (k,) neurons active for some token
        h = a[:, idx] * on[:, idx] * F.linear(x, self.up.index_select(0, idx))  # (N, k)
        return (h @ self.down_t.index_select(0, idx)).reshape(shape)  # (N, d) -> (..., d)


def masked_dense(mlp: nn.Module, x: torch.Tensor, tau: float) -> torch.Tensor:
    """The dense MLP's output with |silu(gate)| <= tau set to zero: what SparseMLP computes."""
    a = mlp.act_fn(mlp.gate_proj(x))
    return mlp.down_proj(a * (a.abs() > tau) * mlp.up_proj(x))


def sparsify(model: nn.Module, tau: float) -> int:
    """Replace every gated MLP of ``model`` in place by a :class:`SparseMLP`; returns how many."""
    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if is_gated_mlp(child):
                setattr(parent, name, SparseMLP(child, tau))
                count += 1
    return count


@dataclass(frozen=True)
class TrainStats:
    """Per-step task loss and density penalty of a DEFT run."""

    task_loss: tuple[float, ...]
    penalty: tuple[float, ...]


def train(
    model: nn.Module,
    data: list,
    options: DeftOptions,
    steps: int,
    lr: float = 1e-3,
    seed: int = 0,
) -> TrainStats:
    """Train ``model``'s trainable parameters (an adapter) for ``steps`` batches drawn from
    ``data`` (:class:`~perception.llm.adapt.text.TextBatch`) on task loss + weight · density
    penalty; ``weight = 0`` is the plain PEFT baseline."""
    from perception.llm.adapt.text import loss as task_loss

    gen = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    losses, penalties = [], []
    model.train()
    with tapped(model) as tap:
        for _ in range(steps):
            batch = data[int(torch.randint(len(data), (1,), generator=gen))]
            tap.clear()
            task = task_loss(model, batch)
            penalty = tap.penalty(options.eps)
            opt.zero_grad()
            (task + options.weight * penalty).backward()
            opt.step()
            losses.append(float(task.detach()))
            penalties.append(float(penalty.detach()))
    model.eval()
    return TrainStats(tuple(losses), tuple(penalties))


@torch.no_grad()
def measure_density(model: nn.Module, data: list, tau: float) -> float:
    """Mean over MLP layers and real tokens of the fraction of |silu(gate)| > tau."""
    values = []
    with tapped(model) as tap:
        for b in data:
            tap.clear()
            model(input_ids=b.ids, attention_mask=b.mask)
            values += [density(a, tau, b.mask) for a in tap.activations]
    return sum(values) / len(values)


@torch.no_grad()
def top1_agreement(model: nn.Module, data: list, tau: float) -> float:
    """Fraction of real tokens whose next-token argmax is unchanged when |a| <= tau is zeroed."""
    same, count = 0, 0
    for b in data:
        dense = model(input_ids=b.ids, attention_mask=b.mask).logits.argmax(-1)  # (B, T)
        with tapped(model, zero_below=tau):
            sparse = model(input_ids=b.ids, attention_mask=b.mask).logits.argmax(-1)
        real = b.mask.bool()
        same, count = same + int((dense == sparse)[real].sum()), count + int(real.sum())
    return same / max(count, 1)
