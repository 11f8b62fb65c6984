"""Loading a causal LM and its tokenizer from the store, offline, with transformers.

Owns the GGUF route: transformers de-quantises a GGUF file on every load (about 17 s for
SmolLM2-135M on 2 cores), so the store converts it once at fetch time into a transformers folder
(``hf/``, float32 safetensors + tokenizer) that later loads in about a second. Any HF causal-LM
folder registered by the user loads the same way. It knows nothing about prompts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perception.errors import require
from perception.models.cards import ModelCard
from perception.models.store import ModelStore

ADAPTER_DIR = Path(__file__).resolve().parent / "weights"  # bundled adapters, cards beside


@dataclass(frozen=True)
class CausalLM:
    """A loaded model with its tokenizer; ``name`` is the card or path it came from."""

    name: str
    model: Any  # transformers PreTrainedModel, in eval mode
    tokenizer: Any  # transformers tokenizer


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def convert_gguf_folder(staging: Path, card: ModelCard) -> list[str]:
    """Store converter: ``<staging>/<gguf file>`` → ``<staging>/<card.entry>/`` (HF folder)."""
    _offline()
    transformers = require("transformers", "llm")
    require("gguf", "llm")
    gguf = next(f.dest for f in card.source.files if f.dest.endswith(".gguf"))
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(staging), gguf_file=gguf)
    loaded = transformers.AutoModelForCausalLM.from_pretrained(str(staging), gguf_file=gguf)
    # A model loaded from GGUF is flagged as quantised and refuses save_pretrained; its weights
    # are already de-quantised, so move them into a plain model built from the same config.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = transformers.AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    out = staging / card.entry
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return [p.relative_to(staging).as_posix() for p in sorted(out.rglob("*")) if p.is_file()]


def load_causal_lm(
    name_or_path: str,
    store: ModelStore | None = None,
    device: str = "cpu",
    adapter: str = "",
    sparse_mlp_tau: float = 0.0,
) -> CausalLM:
    """Load a card's model (checksums verified) or a local HF folder; ``adapter`` is a bundled
    adapter's name (its card in ``perception/llm/weights``, checked) or a peft folder, merged
    into the weights. ``sparse_mlp_tau > 0`` then replaces every gated MLP by DEFT's sparse MLP
    (neurons with |silu(gate)| <= tau skipped; see :mod:`perception.llm.adapt.deft`)."""
    _offline()
    transformers = require("transformers", "llm")
    path = Path(name_or_path)
    folder = path if path.is_dir() else (store or ModelStore()).resolve(name_or_path)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    model = transformers.AutoModelForCausalLM.from_pretrained(str(folder)).to(device).eval()
    lm = CausalLM(name_or_path, model, tokenizer)
    lm = _with_adapter(lm, adapter) if adapter else lm
    if sparse_mlp_tau > 0:
        from perception.llm.adapt.deft import sparsify

        sparsify(lm.model, sparse_mlp_tau)
    return lm


def _with_adapter(lm: CausalLM, adapter: str) -> CausalLM:
    from perception.llm import lora
    from perception.models.bundled import checked_entry

    path = Path(adapter)
    if not path.is_dir():
        hint = "train it with `perception llm train-safety` or `perception llm finetune`"
        path = checked_entry(ADAPTER_DIR, adapter, hint)
    return lora.load(lm, path)
