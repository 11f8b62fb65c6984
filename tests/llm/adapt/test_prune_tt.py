"""Neuron pruning keeps the strongest neurons and the rest of the MLP's function; TT-SVD is exact
at full rank, meets its rank budget, and its error grows as the budget shrinks."""

from __future__ import annotations

import torch

from perception.llm.adapt.prune import neuron_magnitude, prune_mlp_neurons
from perception.llm.adapt.tt import relative_error, tt_svd
from tests.llm.adapt.test_deft import ToyMLP


def test_pruning_removes_exactly_the_weakest_neurons():
    mlp, x = ToyMLP(d=8, f=10), torch.randn(5, 8)
    with torch.no_grad():
        mlp.up_proj.weight[[2, 7]] *= 1e-3  # two neurons that barely contribute
        want = mlp(x)
        dead = neuron_magnitude(mlp).argsort()[:2].sort().values
    assert dead.tolist() == [2, 7]
    holder = torch.nn.Sequential(mlp)
    assert prune_mlp_neurons(holder, 0.2) == 8
    assert mlp.gate_proj.weight.shape == (8, 8) and mlp.down_proj.weight.shape == (8, 8)
    with torch.no_grad():
        got = mlp(x)
    torch.testing.assert_close(got, want, atol=1e-2 * float(want.abs().max()), rtol=0)


def test_tt_svd_is_exact_at_full_rank_and_respects_the_budget():
    torch.manual_seed(0)
    w = torch.randn(24, 12, dtype=torch.float64)
    full = tt_svd(w, (2, 3, 4), (2, 2, 3), max_rank=10_000)
    assert relative_error(w, full) < 1e-10
    errors = []
    for rank in (1, 2, 4, 8):
        tt = tt_svd(w, (2, 3, 4), (2, 2, 3), max_rank=rank)
        assert max(tt.ranks) <= rank
        errors.append(relative_error(w, tt))
    assert errors == sorted(errors, reverse=True) and errors[0] > 0.5
    assert tt_svd(w, (2, 3, 4), (2, 2, 3), 2).parameters < w.numel()
