"""Each zeroth-order optimiser (and forward gradient) lowers an ill-conditioned quadratic, and the
MeZO seed trick restores the parameters exactly after its perturbations."""

from __future__ import annotations

import pytest
import torch

from perception.llm.adapt.zo import METHODS, ZeroOrder, ZoOptions

LR = {"zo-sgd": 0.02, "zo-sign": 0.01, "zo-momentum": 0.002, "zo-adam": 0.05, "forward-grad": 0.02}


def _quadratic():
    torch.manual_seed(0)
    scales = torch.linspace(0.5, 2.0, 12)
    target = torch.randn(12)
    params = [torch.nn.Parameter(torch.zeros(8)), torch.nn.Parameter(torch.zeros(4))]

    def value(ts) -> torch.Tensor:
        theta = torch.cat([t.reshape(-1) for t in ts])
        return 0.5 * (scales * (theta - target).square()).sum()

    return params, value


@pytest.mark.parametrize("blockwise", [False, True])
@pytest.mark.parametrize("method", METHODS)
def test_each_optimiser_lowers_a_quadratic(method, blockwise):
    params, value = _quadratic()
    opt = ZeroOrder(params, ZoOptions(method=method, lr=LR[method], blockwise=blockwise))
    closure = value if method == "forward-grad" else (lambda: value(params))
    start = float(value(params).detach())
    for _ in range(400):
        opt.step(closure)
    assert float(value(params)) < 0.5 * start, (method, float(value(params)), start)


def test_perturbations_are_undone_exactly_before_the_update():
    params, value = _quadratic()
    before = [p.detach().clone() for p in params]
    seen = []
    opt = ZeroOrder(params, ZoOptions(method="zo-sgd", lr=1e-9, mu=0.5))
    opt.step(lambda: seen.append([p.detach().clone() for p in params]) or value(params))
    plus, minus = seen
    for b, p_plus, p_minus in zip(before, plus, minus, strict=True):
        torch.testing.assert_close((p_plus + p_minus) / 2, b)  # ±mu·z around the start
        assert not torch.equal(p_plus, b)
    for b, p in zip(before, params, strict=True):
        torch.testing.assert_close(p.detach(), b, atol=1e-6, rtol=0)  # restored (lr ≈ 0)
