"""ONNX export of the causal LM (SmolLM2) with its key/value cache as inputs and outputs.

One graph serves the prefill and every decoding step: ``input_ids`` (B, T) and
``attention_mask`` (B, P + T) after ``past_k`` / ``past_v`` (layers, B, kv_heads, P, head_dim),
P = 0 for the prefill, → ``logits`` (B, T, vocab) and ``present_k`` / ``present_v`` (layers, B,
kv_heads, P + T, head_dim). The caches are stacked over layers so the graph has five inputs at
any depth.

Exporter: torch.onnx's TorchScript exporter (``dynamo=False``), the one every other graph of
the stack uses, and it needs no extra package. torch.onnx's dynamo exporter (torch 2.11 with
onnxscript 0.7.2, not a dependency) was tried on a first version of the wrapper that left
positions to the model: its graph matched torch with an empty cache but not with one (largest
logit difference 29 at past length 5), the same symptom the TorchScript graph had before the
positions below were made explicit; it was not retried. optimum-onnx was not tried (its support
of the installed transformers 5.24 was not checked). This module writes the graph; generation
stays in :mod:`perception.llm`.
"""

from __future__ import annotations

from pathlib import Path

import torch

from perception.export.trace import trace_to_onnx

INPUTS = ("input_ids", "attention_mask", "past_k", "past_v")
OUTPUTS = ("logits", "present_k", "present_v")


class CachedStep(torch.nn.Module):
    """The model's forward with the cache passed as two stacked tensors."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model
        self.layers = model.config.num_hidden_layers
        self.tied = bool(getattr(model.config, "tie_word_embeddings", False))
        if self.tied:  # one (D, V) copy serves both ends (see forward)
            table = model.get_input_embeddings().weight
            self.register_buffer("table_t", table.detach().T.contiguous())

    def forward(self, input_ids, attention_mask, past_k, past_v):
        from transformers import DynamicCache

        cache = DynamicCache()
        for i in range(self.layers):
            cache.update(past_k[i], past_v[i], i)
        # positions from the inputs' shapes: left to the model, the cache length is read as a
        # Python int while tracing and the graph keeps the example's positions (measured:
        # logits off by up to 25 on a cached step)
        past = past_k.shape[3]
        positions = torch.arange(input_ids.shape[1]) + past  # (T,)
        inputs = dict(
            attention_mask=attention_mask,
            position_ids=positions[None].expand(input_ids.shape[0], -1),
            cache_position=positions,
            past_key_values=cache,
            use_cache=True,
        )
        if self.tied:
            # tied embeddings: rows gathered from the transposed table and logits from the same
            # table; with the model's own head, constant folding stores a second, transposed
            # copy (113 MB for SmolLM2-135M)
            rows = torch.index_select(self.table_t, 1, input_ids.flatten()).T  # (B * T, D)
            embeds = rows.reshape(input_ids.shape[0], input_ids.shape[1], -1)
            out = self.model.model(inputs_embeds=embeds, **inputs)
            logits = out.last_hidden_state @ self.table_t  # (B, T, V)
        else:
            out = self.model(input_ids=input_ids, **inputs)
            logits = out.logits
        layers = out.past_key_values.layers
        present_k = torch.stack([layer.keys for layer in layers])  # (L, B, H, P + T, d)
        present_v = torch.stack([layer.values for layer in layers])
        return logits, present_k, present_v


def empty_cache(model, batch: int = 1) -> torch.Tensor:
    c = model.config
    head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    return torch.zeros(c.num_hidden_layers, batch, c.num_key_value_heads, 0, head_dim)


def export_llm(model, path: Path) -> Path:
    """Write the cached-step graph of a transformers causal LM (fp32, CPU)."""
    model = model.float().cpu().eval()
    step = CachedStep(model)
    past = torch.cat([empty_cache(model)] * 3, dim=3)  # a non-empty example cache: P = 3
    ids = torch.zeros(1, 2, dtype=torch.long)
    mask = torch.ones(1, 5, dtype=torch.long)
    axes = {
        "input_ids": {0: "batch", 1: "new_tokens"},
        "attention_mask": {0: "batch", 1: "total"},
        "past_k": {1: "batch", 3: "past"},
        "past_v": {1: "batch", 3: "past"},
        "logits": {0: "batch", 1: "new_tokens"},
        "present_k": {1: "batch", 3: "total"},
        "present_v": {1: "batch", 3: "total"},
    }
    return trace_to_onnx(step, (ids, mask, past, past), path, INPUTS, OUTPUTS, axes)
