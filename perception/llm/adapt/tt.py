"""Tensor-train (TT-matrix) compression of linear layers by TT-SVD with a rank budget.

A weight W (out, in) with out = o1·…·od and in = i1·…·id is reshaped to a d-way tensor whose
k-th mode is the pair (o_k, i_k), then split by successive truncated SVDs into cores
G_k (r_{k-1}, o_k, i_k, r_k) with r_0 = r_d = 1 and every r_k <= ``max_rank`` (Oseledets 2011,
TT-SVD, Algorithm 1). It knows nothing about which layers are worth compressing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from perception.config import check


@dataclass(frozen=True)
class TTMatrix:
    """TT cores of one matrix and the mode sizes they factor."""

    cores: tuple[torch.Tensor, ...]  # G_k: (r_{k-1}, o_k, i_k, r_k)
    out_modes: tuple[int, ...]
    in_modes: tuple[int, ...]

    @property
    def parameters(self) -> int:
        return sum(c.numel() for c in self.cores)

    @property
    def ranks(self) -> tuple[int, ...]:
        return tuple(c.shape[3] for c in self.cores[:-1])

    def dense(self) -> torch.Tensor:
        """The (out, in) matrix the cores represent."""
        full = self.cores[0]  # (1, o1, i1, r1)
        for core in self.cores[1:]:
            full = torch.tensordot(full, core, dims=([full.dim() - 1], [0]))
        d = len(self.cores)
        pairs = zip(self.out_modes, self.in_modes, strict=True)
        full = full.reshape([n for pair in pairs for n in pair])  # (o1, i1, o2, i2, …)
        order = [2 * k for k in range(d)] + [2 * k + 1 for k in range(d)]  # (o1..od, i1..id)
        return full.permute(order).reshape(math.prod(self.out_modes), math.prod(self.in_modes))


def tt_svd(
    weight: torch.Tensor, out_modes: tuple[int, ...], in_modes: tuple[int, ...], max_rank: int
) -> TTMatrix:
    """TT-SVD of ``weight`` (out, in) with every TT rank cut to at most ``max_rank``."""
    d = len(out_modes)
    check(len(in_modes) == d, "out_modes and in_modes must have the same length")
    check(
        math.prod(out_modes) == weight.shape[0] and math.prod(in_modes) == weight.shape[1],
        f"modes {out_modes} x {in_modes} do not factor a weight of shape {tuple(weight.shape)}",
    )
    check(max_rank >= 1, f"max_rank must be >= 1, got {max_rank}")
    w = weight.detach().double().reshape(*out_modes, *in_modes)
    w = w.permute([i for k in range(d) for i in (k, d + k)])  # (o1, i1, o2, i2, …)
    cores, rank, rest = [], 1, w.reshape(-1)
    for k in range(d - 1):
        rest = rest.reshape(rank * out_modes[k] * in_modes[k], -1)
        u, s, vh = torch.linalg.svd(rest, full_matrices=False)
        keep = min(max_rank, s.numel())
        cores.append(u[:, :keep].reshape(rank, out_modes[k], in_modes[k], keep))
        rest, rank = s[:keep, None] * vh[:keep], keep
    cores.append(rest.reshape(rank, out_modes[-1], in_modes[-1], 1))
    dtype = weight.dtype
    return TTMatrix(tuple(c.to(dtype) for c in cores), tuple(out_modes), tuple(in_modes))


def relative_error(weight: torch.Tensor, tt: TTMatrix) -> float:
    """||W − TT(W)||_F / ||W||_F."""
    return float((weight - tt.dense()).norm() / weight.norm())
