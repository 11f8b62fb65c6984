"""LoRA and DiffuseKronA adapters: the adapted forward equals the merged weight's forward, and the
Kronecker update is A ⊗ B with whole factors of the stated shapes."""

from __future__ import annotations

import pytest
import torch

from perception.llm.adapt.adapters import AdapterOptions, attach, parameter_row
from tests.llm.adapt.conftest import tiny_llama

pytest.importorskip("peft")


def _randomise_adapter(wrapped: torch.nn.Module, seed: int) -> None:
    # fresh adapters start at ΔW = 0; random factors make the equality test meaningful
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in wrapped.parameters():
            if p.requires_grad:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))


@pytest.mark.parametrize("kind", ["lora", "kron"])
def test_adapted_forward_equals_merged_forward(kind):
    wrapped = attach(tiny_llama(), AdapterOptions(kind=kind, rank=4, kron_factor=4))
    _randomise_adapter(wrapped, 1)
    x = torch.randint(0, 64, (2, 9))
    with torch.no_grad():
        adapted = wrapped(input_ids=x).logits
        base = tiny_llama()(input_ids=x).logits  # same seed, no adapter
        merged = wrapped.merge_and_unload()(input_ids=x).logits
    assert not torch.allclose(adapted, base, atol=1e-3)  # the adapter changes the output
    torch.testing.assert_close(merged, adapted, rtol=1e-4, atol=1e-4)


def test_kron_update_is_a_kronecker_product_of_whole_factors():
    base = tiny_llama()
    w0 = base.model.layers[0].mlp.up_proj.weight.detach().clone()  # (64, 32)
    wrapped = attach(base, AdapterOptions(kind="kron", kron_factor=4, targets=("up_proj",)))
    _randomise_adapter(wrapped, 2)
    layer = wrapped.base_model.model.model.layers[0].mlp.up_proj
    a, b = layer.lokr_w1["default"], layer.lokr_w2["default"]
    assert tuple(a.shape) == (4, 4) and tuple(b.shape) == (16, 8)  # a1·b1 = 64, a2·b2 = 32
    assert len(layer.lokr_w1_a) == 0 and len(layer.lokr_w2_a) == 0  # no low-rank split
    merged = wrapped.merge_and_unload().model.layers[0].mlp.up_proj.weight
    torch.testing.assert_close(merged, w0 + torch.kron(a, b).detach(), rtol=1e-5, atol=1e-5)


def test_parameter_rows_count_only_the_adapter():
    lora = parameter_row("lora", attach(tiny_llama(), AdapterOptions(rank=2, targets=("q_proj",))))
    # q_proj is 32 × 32 in 2 layers: LoRA rank 2 adds (32·2 + 2·32) per layer
    assert lora.trainable == 2 * (32 * 2 + 2 * 32)
    assert lora.base == sum(p.numel() for p in tiny_llama().parameters())


def test_kron_factor_must_divide_the_widths():
    from perception.errors import ConfigError

    with pytest.raises(ConfigError, match="must divide"):
        attach(tiny_llama(), AdapterOptions(kind="kron", kron_factor=5))
