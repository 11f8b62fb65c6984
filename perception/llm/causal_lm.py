"""Loading a causal LM and its tokenizer from the store, offline, with transformers, and a saved
LoRA adapter on top.

A GGUF card is converted once at fetch time into a transformers folder (``hf/``, float32
safetensors + tokenizer; see :mod:`perception.models.convert`); any HF causal-LM folder registered
by the user loads the same way. Adapters are trained and saved by :mod:`perception.llm.lora`;
this module only applies one (it stays below lora, which builds on :class:`CausalLM`). It knows
nothing about prompts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perception.errors import require
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


# The turn format of Gemma's instruction-tuned models, given to a pretrained model whose
# tokenizer has no chat template (gemma3-270m), so that prompts, adapters and stop tokens work
# the same way for every model; an adapter trained on it teaches the base model the format.
TURN_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<start_of_turn>"
    "{{ 'model' if m['role'] == 'assistant' else m['role'] }}\n{{ m['content'] }}<end_of_turn>\n"
    "{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
TURN_END_MARKERS = ("<|im_end|>", "<end_of_turn>", "<|eot_id|>")


def turn_end_id(tokenizer) -> int:
    """The token that ends an assistant's turn in this tokenizer's chat format."""
    vocab = tokenizer.get_vocab()
    for marker in TURN_END_MARKERS:
        if marker in vocab:
            return vocab[marker]
    return tokenizer.eos_token_id


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
    if tokenizer.chat_template is None and "<start_of_turn>" in tokenizer.get_vocab():
        tokenizer.chat_template = TURN_TEMPLATE
    model = transformers.AutoModelForCausalLM.from_pretrained(str(folder)).to(device).eval()
    lm = CausalLM(name_or_path, model, tokenizer)
    lm = _with_adapter(lm, adapter) if adapter else lm
    if sparse_mlp_tau > 0:
        from perception.llm.adapt.deft import sparsify

        sparsify(lm.model, sparse_mlp_tau)
    return lm


def _with_adapter(lm: CausalLM, adapter: str) -> CausalLM:
    from perception.models.bundled import checked_entry

    path = Path(adapter)
    if not path.is_dir():
        hint = "train it with `perception llm train-safety` or `perception llm finetune`"
        path = checked_entry(ADAPTER_DIR, adapter, hint)
    return load_adapter(lm, path)


def load_adapter(lm: CausalLM, folder: Path, merge: bool = True) -> CausalLM:
    """``lm`` with the peft adapter in ``folder`` on top (merged into the weights by default, so
    generation costs what the base model costs)."""
    peft = require("peft", "llm")
    model = peft.PeftModel.from_pretrained(lm.model, str(folder))
    model = model.merge_and_unload() if merge else model
    return CausalLM(f"{lm.name}+{Path(folder).name}", model.eval(), lm.tokenizer)
