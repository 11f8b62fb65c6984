"""ONNX export of Whisper: an encoder graph and a decoder graph with explicit key/value caches.

The encoder graph takes a log-mel window of any even length up to 30 s (the recogniser trims its
input to the utterance, at least ``encoder_window_s``; :mod:`perception.speech.acoustic`) and
returns the encoder states and every decoder layer's cross-attention keys and values, computed
once per utterance. The decoder graph takes new tokens, the self-attention cache of the tokens
before them (length 0 on the first call) and the cross-attention cache, and returns logits and
the grown self-attention cache. Attention is written out as MatMul/Softmax (no fused SDPA op), so
TensorRT's ONNX parser and onnxruntime's optimiser both see plain ops.

This module builds and writes graphs; running them is :mod:`perception.speech.whisper_onnx`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from perception.export.trace import trace_to_onnx

ENCODER_FILE = "whisper_encoder.onnx"
DECODER_FILE = "whisper_decoder.onnx"


@dataclass(frozen=True)
class WhisperDims:
    """The sizes a runtime needs to build empty caches."""

    n_text_layer: int
    n_text_state: int
    n_mels: int
    n_vocab: int


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, mask=None):
    """Whisper's attention: q (B, n, D), k/v (Bk, S, D) with Bk = B or 1 → (B, n, D)."""
    scale = (q.shape[-1] // heads) ** -0.25
    q = q.reshape(q.shape[0], q.shape[1], heads, -1).permute(0, 2, 1, 3)  # (B, H, n, d)
    k = k.reshape(k.shape[0], k.shape[1], heads, -1).permute(0, 2, 3, 1)  # (Bk, H, d, S)
    v = v.reshape(v.shape[0], v.shape[1], heads, -1).permute(0, 2, 1, 3)  # (Bk, H, S, d)
    qk = (q * scale) @ (k * scale)  # (B, H, n, S)
    if mask is not None:
        qk = qk + mask
    out = F.softmax(qk.float(), dim=-1).to(q.dtype) @ v  # (B, H, n, d)
    return out.permute(0, 2, 1, 3).flatten(2)


class EncoderGraph(nn.Module):
    """mel (1, n_mels, F), F even, ≤ 3000 → states (1, F/2, D), cross_k/v (L, 1, F/2, D)."""

    def __init__(self, model) -> None:
        super().__init__()
        self.encoder, self.decoder = model.encoder, model.decoder
        self.heads = model.dims.n_audio_head

    def forward(self, mel: torch.Tensor):
        enc = self.encoder
        x = F.gelu(enc.conv2(F.gelu(enc.conv1(mel)))).permute(0, 2, 1)  # (1, T, D)
        x = x + enc.positional_embedding[: x.shape[1]].to(x.dtype)
        for block in enc.blocks:
            h = block.attn_ln(x)
            a = block.attn
            x = x + a.out(_attend(a.query(h), a.key(h), a.value(h), self.heads))
            x = x + block.mlp(block.mlp_ln(x))
        states = enc.ln_post(x)
        cross_k = torch.stack([b.cross_attn.key(states) for b in self.decoder.blocks])
        cross_v = torch.stack([b.cross_attn.value(states) for b in self.decoder.blocks])
        return states, cross_k, cross_v


class DecoderGraph(nn.Module):
    """tokens (B, n), self_k/self_v (L, B, P, D), cross_k/cross_v (L, 1 or B, S, D) →
    logits (B, n, V), self_k/self_v (L, B, P + n, D). Token i sits at position P + i."""

    def __init__(self, model) -> None:
        super().__init__()
        self.decoder = model.decoder
        self.heads = model.dims.n_text_head
        # one copy of the token table, (D, V): rows for the input are gathered from its columns
        # and the output projection uses it as is (with the (V, D) table as well, constant
        # folding stores a transposed second copy: 80 MB more for tiny.en)
        self.register_buffer("table_t", model.decoder.token_embedding.weight.T.contiguous())

    def forward(self, tokens, self_k, self_v, cross_k, cross_v):
        dec = self.decoder
        past, n = self_k.shape[2], tokens.shape[1]
        embedded = torch.index_select(self.table_t, 1, tokens.flatten()).T  # (B * n, D)
        x = embedded.reshape(tokens.shape[0], n, -1) + dec.positional_embedding[past : past + n]
        rows = torch.arange(n)[:, None] + past
        cols = torch.arange(past + n)[None, :]
        mask = torch.zeros(n, past + n).masked_fill(cols > rows, float("-inf"))  # (n, P + n)
        new_k, new_v = [], []
        for i, block in enumerate(dec.blocks):
            h = block.attn_ln(x)
            a = block.attn
            k = torch.cat([self_k[i], a.key(h)], 1)  # (B, P + n, D)
            v = torch.cat([self_v[i], a.value(h)], 1)
            new_k.append(k)
            new_v.append(v)
            x = x + a.out(_attend(a.query(h), k, v, self.heads, mask))
            c = block.cross_attn
            h = block.cross_attn_ln(x)
            x = x + c.out(_attend(c.query(h), cross_k[i], cross_v[i], self.heads))
            x = x + block.mlp(block.mlp_ln(x))
        logits = dec.ln(x) @ self.table_t  # (B, n, V)
        return logits.float(), torch.stack(new_k), torch.stack(new_v)


def dims_of(model) -> WhisperDims:
    d = model.dims
    return WhisperDims(d.n_text_layer, d.n_text_state, d.n_mels, d.n_vocab)


def export_whisper(model, out: Path, window_frames: int = 1000) -> tuple[Path, Path]:
    """Write the encoder and decoder graphs of a loaded openai-whisper model (fp32, on CPU).

    Args:
        model: an openai-whisper ``Whisper`` module.
        out: folder for ``whisper_encoder.onnx`` and ``whisper_decoder.onnx``.
        window_frames: mel frames of the example input the graphs are traced with (the
            recogniser's default window, 10 s = 1000 frames); the frame axis stays dynamic.
    """
    model = copy.deepcopy(model).float().cpu().eval()  # the caller's model keeps its device
    dims = dims_of(model)
    out.mkdir(parents=True, exist_ok=True)
    mel = torch.zeros(1, dims.n_mels, window_frames)
    enc_path, dec_path = out / ENCODER_FILE, out / DECODER_FILE
    trace_to_onnx(
        EncoderGraph(model),
        (mel,),
        enc_path,
        ["mel"],
        ["states", "cross_k", "cross_v"],
        {
            "mel": {2: "frames"},
            "states": {1: "positions"},
            "cross_k": {2: "positions"},
            "cross_v": {2: "positions"},
        },
    )
    with torch.no_grad():
        _, cross_k, cross_v = EncoderGraph(model)(mel)
    batch, past = 2, 3  # non-trivial example sizes, so no axis is specialised while tracing
    cache = torch.zeros(dims.n_text_layer, batch, past, dims.n_text_state)
    tokens = torch.zeros(batch, 2, dtype=torch.long)
    trace_to_onnx(
        DecoderGraph(model),
        (tokens, cache, cache, cross_k, cross_v),
        dec_path,
        ["tokens", "self_k", "self_v", "cross_k", "cross_v"],
        ["logits", "new_self_k", "new_self_v"],
        {
            "tokens": {0: "batch", 1: "new_tokens"},
            "self_k": {1: "batch", 2: "past"},
            "self_v": {1: "batch", 2: "past"},
            "cross_k": {1: "audio_batch", 2: "positions"},
            "cross_v": {1: "audio_batch", 2: "positions"},
            "logits": {0: "batch", 1: "new_tokens"},
            "new_self_k": {1: "batch", 2: "total"},
            "new_self_v": {1: "batch", 2: "total"},
        },
    )
    return enc_path, dec_path
