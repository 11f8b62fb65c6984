"""Whisper on torch through openai-whisper: its options and loading a checkpoint.

Owns resolving a card name or a user's ``.pt`` path to a loaded model on a device. Decoding
lives in :mod:`perception.speech.acoustic`; files and streams are read elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from perception.config import check
from perception.errors import ConfigError
from perception.models.store import ModelStore
from perception.runtime import Runtime

Device = Literal["auto", "cpu", "cuda"]


@dataclass(frozen=True)
class WhisperOptions:
    """How Whisper runs. ``model`` is a card name or a path to an openai-whisper ``.pt`` file;
    ``beam_size`` is also the N-best size; ``fp16`` applies on CUDA only; ``timestamps``
    decodes with timestamp tokens and their rules, as ``whisper.transcribe`` does (the text
    never holds them). Off by default: on our dev split (80 utterances, AM-only) it raised WER
    from 76.0% to 113.0%, by repetition loops under babble noise that ``transcribe`` would
    retry with temperature sampling, which we do not do.

    ``runtime``: where the encoder and the beam search's decoder steps run. ``auto`` (the
    default) is ``onnxruntime`` on a CPU and ``torch`` on a CUDA GPU: on the 40 real recordings
    of ../shared/data/speech (2 threads, ``bench/speech_real.py``) onnxruntime wrote the same
    text as torch for every one, at 0.68x faster-whisper int8's median time against torch's
    1.45x. ``onnxruntime``
    exports the two graphs into ``onnx_dir`` (empty = the store's ``export/<model>`` folder) on
    first use and picks TensorRT / CUDA / CPU execution providers by ``device``; ``tensorrt``
    needs engines built on the target (``perception export``) and TensorRT installed there.
    Teacher-forced scoring (fusion, guards) stays on torch.

    ``language``: a code, ``None`` / ``"auto"`` (a multilingual model names each utterance's
    language), or a comma-separated list the robot expects (the choice is restricted to it);
    an English-only model always says ``"en"``."""

    model: str = "whisper-tiny.en"
    device: Device = "auto"
    language: str | None = None
    beam_size: int = 5
    fp16: bool = True
    timestamps: bool = False
    runtime: Runtime | Literal["auto"] = "auto"
    onnx_dir: str = ""

    def __post_init__(self) -> None:
        check(self.beam_size >= 1, f"beam_size must be >= 1, got {self.beam_size}")


def resolve_device(device: Device) -> str:
    """``auto`` → ``cuda`` when torch sees a GPU, else ``cpu``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        built = torch.version.cuda or "no CUDA"
        raise ConfigError(
            f"device 'cuda' was asked for but torch {torch.__version__} ({built}) sees no CUDA "
            "GPU; use --device cpu or auto (`perception doctor` shows what torch sees)"
        )
    return device


def load_whisper(path: Path, device: str = "cpu"):
    """Load an openai-whisper checkpoint; alignment heads stored by our converter are applied.

    Equivalent to ``whisper.load_model(path)`` plus the heads (used for word timestamps).
    """
    from whisper.model import ModelDimensions, Whisper

    checkpoint = torch.load(str(path), map_location="cpu", weights_only=True)
    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])
    heads = checkpoint.get("alignment_heads")
    if heads:
        mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
        for layer, head in heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model.to(device)


def model_path(name_or_path: str, store: ModelStore | None = None) -> Path:
    """A card name resolves through the store (checksums verified); a path is used as given."""
    path = Path(name_or_path)
    if path.suffix == ".pt" and path.is_file():
        return path
    return (store or ModelStore()).resolve(name_or_path)


def load_runtime(options: WhisperOptions, model, checkpoint: Path, store: ModelStore, device: str):
    """The :class:`~perception.speech.whisper_onnx.OnnxWhisper` that ``options.runtime`` asks
    for, or None for torch."""
    runtime = options.runtime
    if runtime == "auto":
        runtime = "onnxruntime" if device == "cpu" else "torch"
    if runtime == "torch":
        return None
    if runtime == "tensorrt":
        from perception.export.tensorrt import require_tensorrt

        require_tensorrt("speech.asr.runtime 'tensorrt'")
        raise ConfigError(
            "Whisper on TensorRT engines is not wired into the recogniser yet; use "
            "runtime 'onnxruntime' (its TensorRT execution provider is picked when present)"
        )
    from perception.speech.whisper_onnx import load_onnx_whisper

    folder = Path(options.onnx_dir) if options.onnx_dir else store.home / "export" / options.model
    return load_onnx_whisper(model, checkpoint, folder, device, torch.get_num_threads())
