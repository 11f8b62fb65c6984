"""DEFT: the density loss' gradient is finite and drives gate activations toward zero on a toy
MLP; the sparse MLP equals the dense MLP restricted to the active set."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from perception.llm.adapt.deft import (
    SparseMLP,
    density,
    density_penalty,
    masked_dense,
    sparsify,
    tapped,
)
from tests.llm.adapt.conftest import tiny_llama


class ToyMLP(nn.Module):
    def __init__(self, d: int = 16, f: int = 48, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


def test_density_penalty_gradient_is_finite_and_zero_at_zero():
    a = torch.tensor([0.0, 1e-6, 0.3, -2.0, 50.0], requires_grad=True)
    density_penalty(a, 1e-2).backward()
    assert torch.isfinite(a.grad).all()
    assert a.grad[0] == 0.0
    assert a.grad[2] > 0 and a.grad[3] < 0  # descent shrinks |a| on both sides of zero


def test_density_loss_pushes_toy_activations_toward_zero():
    mlp, x = ToyMLP(), torch.randn(64, 16)
    opt = torch.optim.SGD(mlp.gate_proj.parameters(), lr=0.5)
    with tapped(mlp) as tap:
        mlp(x)
        before_penalty = float(tap.penalty(1e-2).detach())
        before_density = density(tap.activations[0], 0.05)
        for _ in range(200):
            tap.clear()
            mlp(x)
            loss = tap.penalty(1e-2)
            opt.zero_grad()
            loss.backward()
            assert all(torch.isfinite(p.grad).all() for p in mlp.gate_proj.parameters())
            opt.step()
        tap.clear()
        mlp(x)
        assert float(tap.penalty(1e-2).detach()) < 0.5 * before_penalty
        assert density(tap.activations[0], 0.05) < before_density


@pytest.mark.parametrize("tokens", [1, 7])
def test_sparse_mlp_equals_dense_on_the_active_set(tokens):
    mlp, x = ToyMLP(), torch.randn(2, tokens, 16) if tokens > 1 else torch.randn(1, 1, 16)
    tau = 0.2
    with torch.no_grad():
        a = mlp.act_fn(mlp.gate_proj(x))
        assert 0.1 < density(a, tau) < 0.9  # some neurons on, some off: the test means something
        sparse, want = SparseMLP(mlp, tau)(x), masked_dense(mlp, x, tau)
        dense = mlp(x)
    assert sparse.shape == x.shape
    torch.testing.assert_close(sparse, want, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(sparse, dense, atol=1e-4)  # the off neurons did contribute


@pytest.mark.parametrize("tokens", [1, 3])
def test_sparse_mlp_with_no_active_neuron_is_zero_like_the_masked_dense(tokens):
    mlp, x = ToyMLP(), torch.randn(1, tokens, 16)
    with torch.no_grad():
        out = SparseMLP(mlp, 1e6)(x)  # tau above every activation
        torch.testing.assert_close(out, masked_dense(mlp, x, 1e6))
    assert out.shape == x.shape and not out.any()


def test_sparsified_llama_equals_the_masked_dense_llama():
    model, ids = tiny_llama(), torch.randint(0, 64, (2, 6))
    with torch.no_grad(), tapped(model, zero_below=0.05):
        want = model(input_ids=ids).logits
    assert sparsify(model, 0.05) == 2
    assert all(isinstance(layer.mlp, SparseMLP) for layer in model.model.layers)
    with torch.no_grad():
        got = model(input_ids=ids).logits
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.model
def test_load_causal_lm_with_sparse_mlp_matches_the_masked_dense_model():
    from perception.errors import ModelNotFoundError
    from perception.llm.causal_lm import load_causal_lm

    try:
        dense = load_causal_lm("smollm2-135m-instruct")
    except ModelNotFoundError as exc:
        pytest.skip(str(exc))
    sparse = load_causal_lm("smollm2-135m-instruct", sparse_mlp_tau=0.02)
    assert all(isinstance(layer.mlp, SparseMLP) for layer in sparse.model.model.layers)
    ids = dense.tokenizer("Go to the kitchen and bring the cup.", return_tensors="pt").input_ids
    with torch.no_grad(), tapped(dense.model, zero_below=0.02):
        want = dense.model(input_ids=ids).logits
    with torch.no_grad():
        got = sparse.model(input_ids=ids).logits
    torch.testing.assert_close(got, want, rtol=1e-3, atol=1e-3)
