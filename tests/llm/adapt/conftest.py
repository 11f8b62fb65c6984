"""A tiny random Llama (no weights, no tokenizer) for the adaptation tests."""

from __future__ import annotations

import pytest
import torch


def tiny_llama(seed: int = 0, hidden: int = 32, intermediate: int = 64, layers: int = 2):
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(
        vocab_size=64,
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
    )
    torch.manual_seed(seed)
    return transformers.LlamaForCausalLM(config).eval()
