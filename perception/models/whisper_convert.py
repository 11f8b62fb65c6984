"""Convert a CTranslate2 Whisper model into an openai-whisper checkpoint.

Owns the tensor-name mapping between the two formats. CTranslate2's Whisper spec fuses the
self-attention query/key/value projections into one matrix (and cross-attention key/value into
another) and gives the key projection a zero bias; openai-whisper keeps them apart and its key
projection has no bias. Everything else maps one to one. The result loads with
``whisper.load_model(path)``; the alignment heads from the CTranslate2 config ride along under an
extra key that :func:`perception.speech.whisper_backend.load_whisper` applies.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from perception.models.ct2 import read_ct2_model

_LINEAR = {"weight": "weight", "bias": "bias"}
_NORM = {"gamma": "weight", "beta": "bias"}


def _layer_count(variables: dict[str, np.ndarray], stack: str) -> int:
    return len({m.group(1) for k in variables if (m := re.match(rf"{stack}/layer_(\d+)/", k))})


def _split_fused(prefix: str, weight: np.ndarray, bias: np.ndarray, names: list[str]) -> dict:
    """Split a fused (n·D, D) projection into ``names``; the key projection drops its bias."""
    out = {}
    for name, w, b in zip(
        names, np.split(weight, len(names)), np.split(bias, len(names)), strict=True
    ):
        out[f"{prefix}.{name}.weight"] = w
        if name == "key":
            if np.abs(b).max() > 0:
                raise ValueError(
                    f"{prefix}.key has a non-zero bias; openai-whisper has none there"
                )
        else:
            out[f"{prefix}.{name}.bias"] = b
    return out


def _block(v: dict[str, np.ndarray], src: str, dst: str, cross: bool) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    sa = f"{src}/self_attention"
    for k, t in _NORM.items():
        out[f"{dst}.attn_ln.{t}"] = v[f"{sa}/layer_norm/{k}"]
        out[f"{dst}.mlp_ln.{t}"] = v[f"{src}/ffn/layer_norm/{k}"]
    out.update(
        _split_fused(
            f"{dst}.attn",
            v[f"{sa}/linear_0/weight"],
            v[f"{sa}/linear_0/bias"],
            ["query", "key", "value"],
        )
    )
    for k, t in _LINEAR.items():
        out[f"{dst}.attn.out.{t}"] = v[f"{sa}/linear_1/{k}"]
        out[f"{dst}.mlp.0.{t}"] = v[f"{src}/ffn/linear_0/{k}"]
        out[f"{dst}.mlp.2.{t}"] = v[f"{src}/ffn/linear_1/{k}"]
    if cross:
        ca = f"{src}/attention"
        for k, t in _NORM.items():
            out[f"{dst}.cross_attn_ln.{t}"] = v[f"{ca}/layer_norm/{k}"]
        for k, t in _LINEAR.items():
            out[f"{dst}.cross_attn.query.{t}"] = v[f"{ca}/linear_0/{k}"]
            out[f"{dst}.cross_attn.out.{t}"] = v[f"{ca}/linear_2/{k}"]
        out.update(
            _split_fused(
                f"{dst}.cross_attn",
                v[f"{ca}/linear_1/weight"],
                v[f"{ca}/linear_1/bias"],
                ["key", "value"],
            )
        )
    return out


def ct2_to_whisper_state(variables: dict[str, np.ndarray]) -> tuple[dict, dict[str, np.ndarray]]:
    """Map CTranslate2 Whisper variables to openai-whisper ``(dims, state_dict)`` (numpy)."""
    v = variables
    n_enc, n_dec = _layer_count(v, "encoder"), _layer_count(v, "decoder")
    dims = {
        "n_mels": int(v["encoder/conv1/weight"].shape[1]),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(v["encoder/conv1/weight"].shape[0]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_enc,
        "n_vocab": int(v["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(v["decoder/embeddings/weight"].shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_dec,
    }
    sd: dict[str, np.ndarray] = {
        "encoder.positional_embedding": v["encoder/position_encodings/encodings"],
        "decoder.positional_embedding": v["decoder/position_encodings/encodings"],
        "decoder.token_embedding.weight": v["decoder/embeddings/weight"],
    }
    for conv in ("conv1", "conv2"):
        for k in _LINEAR:
            sd[f"encoder.{conv}.{k}"] = v[f"encoder/{conv}/{k}"]
    for k, t in _NORM.items():
        sd[f"encoder.ln_post.{t}"] = v[f"encoder/layer_norm/{k}"]
        sd[f"decoder.ln.{t}"] = v[f"decoder/layer_norm/{k}"]
    for i in range(n_enc):
        sd.update(_block(v, f"encoder/layer_{i}", f"encoder.blocks.{i}", cross=False))
    for i in range(n_dec):
        sd.update(_block(v, f"decoder/layer_{i}", f"decoder.blocks.{i}", cross=True))
    return dims, sd


def convert_ct2_whisper(ct2_dir: Path, out_path: Path) -> Path:
    """Write an openai-whisper checkpoint converted from a CTranslate2 Whisper folder.

    Args:
        ct2_dir: folder with ``model.bin`` and ``config.json`` (CTranslate2 WhisperSpec).
        out_path: the ``.pt`` file to write.
    """
    model = read_ct2_model(ct2_dir / "model.bin")
    if model.spec_name != "WhisperSpec":
        raise ValueError(f"{ct2_dir}/model.bin holds a {model.spec_name}, not a WhisperSpec")
    dims, arrays = ct2_to_whisper_state(model.variables)
    state = {
        name: torch.from_numpy(np.ascontiguousarray(a))
        for name, a in tqdm(sorted(arrays.items()), desc="converting whisper", unit="tensor")
    }
    config = json.loads((ct2_dir / "config.json").read_text(encoding="utf-8"))
    checkpoint = {
        "dims": dims,
        "model_state_dict": state,
        "alignment_heads": [list(map(int, h)) for h in config.get("alignment_heads", [])],
    }
    torch.save(checkpoint, out_path)
    return out_path
