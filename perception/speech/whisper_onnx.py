"""Whisper on onnxruntime: the exported encoder and decoder behind the acoustic model's interface.

Owns running :mod:`perception.speech.export`'s two graphs: the encoder once per utterance (states
and the cross-attention cache), and the decoder as an openai-whisper ``Inference`` whose
self-attention cache lives in numpy between steps, so whisper's own beam search and logit filters
run unchanged on top. Graphs are exported into the model store on first use and re-exported when
their manifest no longer matches the checkpoint. It knows nothing about fusion or the LLM.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from perception.export.manifest import graphs_current, onnx_manifest, write_manifest
from perception.models.store import sha256_file
from perception.runtime import OrtSession, ort_session
from perception.speech.export import (
    DECODER_FILE,
    ENCODER_FILE,
    WhisperDims,
    dims_of,
    export_whisper,
)

GRAPHS = (ENCODER_FILE, DECODER_FILE)


@dataclass(frozen=True)
class CrossCache:
    """Cross-attention keys and values of one utterance, (L, 1, S, D) each."""

    k: np.ndarray
    v: np.ndarray


class OnnxWhisper:
    """The two sessions and the sizes needed for empty caches. ``variant`` picks other files
    of the same graphs: ``".int8"`` reads ``whisper_encoder.int8.onnx`` and so on."""

    def __init__(
        self,
        folder: Path,
        dims: WhisperDims,
        device: str = "cpu",
        threads: int = 0,
        variant: str = "",
    ) -> None:
        self.dims = dims
        encoder, decoder = (folder / f.replace(".onnx", f"{variant}.onnx") for f in GRAPHS)
        self.encoder: OrtSession = ort_session(encoder, device, threads)
        self.decoder: OrtSession = ort_session(decoder, device, threads)
        self.providers = self.encoder.providers

    def encode(self, mel: np.ndarray) -> tuple[np.ndarray, CrossCache]:
        """mel (1, n_mels, F) float32, F even → states (1, F/2, D) and the cross cache."""
        states, k, v = self.encoder.session.run(None, {"mel": mel.astype(np.float32)})
        return states, CrossCache(k, v)

    def empty_cache(self, batch: int) -> np.ndarray:
        return np.zeros((self.dims.n_text_layer, batch, 0, self.dims.n_text_state), np.float32)

    def decode(self, tokens: np.ndarray, self_k, self_v, cross: CrossCache):
        """tokens (B, n) int64 after a (L, B, P, D) cache → logits (B, n, V), grown caches."""
        feeds = {
            "tokens": tokens.astype(np.int64),
            "self_k": self_k,
            "self_v": self_v,
            "cross_k": cross.k,
            "cross_v": cross.v,
        }
        return self.decoder.session.run(None, feeds)


def onnx_inference(onnx: OnnxWhisper, cross: CrossCache, initial_token_length: int):
    """An openai-whisper ``Inference`` over the decoder graph (built on first use: importing
    this module must not import whisper)."""
    from whisper.decoding import Inference

    class OnnxInference(Inference):
        """Decoder steps on onnxruntime; beams reorder the numpy self-attention cache."""

        def __init__(self) -> None:
            self.k = self.v = None

        def logits(self, tokens: torch.Tensor, audio_features: torch.Tensor) -> torch.Tensor:
            if self.k is None:
                self.k = self.v = onnx.empty_cache(tokens.shape[0])
            if tokens.shape[-1] > initial_token_length:
                tokens = tokens[:, -1:]  # only the newest token after the first pass
            logits, self.k, self.v = onnx.decode(tokens.cpu().numpy(), self.k, self.v, cross)
            return torch.from_numpy(logits).to(tokens.device)

        def rearrange_kv_cache(self, source_indices) -> None:
            if self.k is not None and source_indices != list(range(len(source_indices))):
                self.k, self.v = self.k[:, source_indices], self.v[:, source_indices]

        def cleanup_caching(self) -> None:
            self.k = self.v = None

    return OnnxInference()


def load_onnx_whisper(
    model, checkpoint: Path, folder: Path, device: str = "cpu", threads: int = 0
) -> OnnxWhisper:
    """Sessions over ``folder``'s graphs, exported there first when missing or built from
    another checkpoint (the folder is a cache of this checkpoint's export)."""
    source_sha = sha256_file(checkpoint)
    if not graphs_current([folder / name for name in GRAPHS], source_sha):
        write_whisper(model, checkpoint, folder, source_sha)
    return OnnxWhisper(folder, dims_of(model), device, threads)


def write_whisper(model, checkpoint: Path, folder: Path, source_sha: str = "") -> list[Path]:
    """Export both graphs of ``model`` into ``folder``, each with its manifest. The files are
    written in a private folder beside it and moved in one by one (each move is atomic), so a
    process that starts meanwhile never reads half a graph."""
    source_sha = source_sha or sha256_file(checkpoint)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    try:
        paths = export_whisper(model, staging)
        rebuild = f"perception export --target cpu --models whisper --out {folder}"
        notes = (f"dims {json.dumps(dims_of(model).__dict__)}",)
        for path in paths:
            manifest = onnx_manifest(path, checkpoint, source_sha, rebuild, notes=notes)
            write_manifest(manifest, staging)
        for item in sorted(staging.iterdir(), key=lambda p: p.suffix == ".onnx"):
            os.replace(item, folder / item.name)  # graphs last: a graph never lacks its manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / p.name for p in paths]
