"""Magnitude pruning of gated-MLP neurons: drop the neurons with the smallest weights and rebuild
each MLP with narrower projections, so the pruned model is smaller and faster as a plain dense
model (no masks at run time).

A neuron i of ``down(silu(gate(x)) * up(x))`` owns row i of gate and up and column i of down; its
magnitude is the product of those three L2 norms (zero if any of them is zero, as the neuron's
output then is). It knows nothing about recovery training or tasks.
"""

from __future__ import annotations

import torch
from torch import nn

from perception.config import check
from perception.llm.adapt.deft import gated_mlps


def neuron_magnitude(mlp: nn.Module) -> torch.Tensor:
    """(d_ff,) product of the L2 norms of each neuron's gate row, up row and down column."""
    gate, up = mlp.gate_proj.weight.norm(dim=1), mlp.up_proj.weight.norm(dim=1)
    return gate * up * mlp.down_proj.weight.norm(dim=0)


def _narrow(linear: nn.Linear, keep: torch.Tensor, dim: int) -> nn.Linear:
    weight = linear.weight.detach().index_select(dim, keep).clone()  # (out, in) narrowed
    out = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    out.weight = nn.Parameter(weight, requires_grad=linear.weight.requires_grad)
    return out


@torch.no_grad()
def prune_mlp_neurons(model: nn.Module, fraction: float) -> int:
    """Remove ``fraction`` of the neurons of every gated MLP (lowest magnitude first), in place;
    returns the number of neurons kept per MLP."""
    check(0.0 <= fraction < 1.0, f"fraction must be in [0, 1), got {fraction}")
    kept = 0
    for mlp in gated_mlps(model):
        check(mlp.gate_proj.bias is None, "neuron pruning supports bias-free projections only")
        score = neuron_magnitude(mlp)
        kept = score.numel() - int(round(fraction * score.numel()))
        keep = score.topk(kept).indices.sort().values  # (kept,) in the original order
        mlp.gate_proj = _narrow(mlp.gate_proj, keep, 0)
        mlp.up_proj = _narrow(mlp.up_proj, keep, 0)
        mlp.down_proj = _narrow(mlp.down_proj, keep, 1)
        if hasattr(mlp, "intermediate_size"):
            mlp.intermediate_size = kept
    return kept
