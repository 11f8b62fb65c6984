"""LoRA adapters for the causal LMs, with peft: attach, fine-tune on (prompt, answer) pairs,
save as a small file with its card, load on top of a base model.

Owns the supervised fine-tuning loop used by the safety adapter and the GER adapter:
chat-formatted examples, the loss on the answer tokens only, AdamW over the adapter's
parameters. It knows nothing about what the examples teach.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml
from tqdm import tqdm

from perception.config import check
from perception.errors import require
from perception.llm.causal_lm import CausalLM, load_adapter, turn_end_id
from perception.llm.chat import prompt_ids
from perception.models.store import sha256_path

IGNORE = -100  # label of prompt tokens: no loss


@dataclass(frozen=True)
class LoraOptions:
    """Adapter shape (rank, alpha, target projections) and the fine-tuning recipe."""

    rank: int = 8
    alpha: int = 16
    targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    lr: float = 3e-4
    epochs: int = 2
    batch_size: int = 8
    max_tokens: int = 160  # examples are cut to this many tokens (prompt + answer)
    seed: int = 0

    def __post_init__(self) -> None:
        check(self.rank >= 1, f"rank must be >= 1, got {self.rank}")
        check(self.epochs >= 1 and self.batch_size >= 1, "epochs and batch_size must be >= 1")


@dataclass(frozen=True)
class Example:
    """One chat turn to learn: the messages before the answer, and the answer."""

    messages: tuple[tuple[str, str], ...]  # (role, content)
    answer: str


def encode(lm: CausalLM, example: Example, max_tokens: int) -> tuple[list[int], list[int]]:
    """(ids, labels): the prompt's labels are IGNORE, the answer's (+ end of turn) are its ids."""
    prompt = prompt_ids(lm, example.messages)
    end = turn_end_id(lm.tokenizer)
    answer = lm.tokenizer.encode(example.answer, add_special_tokens=False) + [end]
    ids = (prompt + answer)[:max_tokens]
    labels = ([IGNORE] * len(prompt) + answer)[:max_tokens]
    return ids, labels


def attach(lm: CausalLM, options: LoraOptions) -> CausalLM:
    """The model wrapped with a fresh trainable LoRA adapter (base weights frozen)."""
    peft = require("peft", "llm")
    config = peft.LoraConfig(
        r=options.rank,
        lora_alpha=options.alpha,
        target_modules=list(options.targets),
        lora_dropout=0.0,
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(options.seed)  # the adapter's initial A matrices
    return CausalLM(lm.name, peft.get_peft_model(lm.model, config), lm.tokenizer)


def _batch(rows: list[tuple[list[int], list[int]]], pad: int) -> tuple[torch.Tensor, ...]:
    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), pad)  # (B, T), right-padded
    labels = torch.full((len(rows), width), IGNORE)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (x, y) in enumerate(rows):
        ids[i, : len(x)], labels[i, : len(y)], mask[i, : len(x)] = (
            torch.tensor(x),
            torch.tensor(y),
            1,
        )
    return ids, labels, mask


def fine_tune(lm: CausalLM, examples: list[Example], options: LoraOptions) -> list[float]:
    """Train the adapter of ``lm`` (from :func:`attach`) in place; returns the loss per step."""
    torch.manual_seed(options.seed)
    rng = random.Random(options.seed)
    rows = [encode(lm, e, options.max_tokens) for e in examples]
    params = [p for p in lm.model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=options.lr, weight_decay=0.0)
    pad = lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else 0
    lm.model.train()
    losses: list[float] = []
    for epoch in range(options.epochs):
        rng.shuffle(rows)
        first = len(losses)
        starts = range(0, len(rows), options.batch_size)
        for start in tqdm(starts, desc=f"epoch {epoch + 1}/{options.epochs}", leave=False):
            ids, labels, mask = _batch(rows[start : start + options.batch_size], pad)
            loss = lm.model(input_ids=ids, attention_mask=mask, labels=labels).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        mean = sum(losses[first:]) / len(losses[first:])
        print(f"epoch {epoch + 1}/{options.epochs}: mean loss {mean:.3f}", file=sys.stderr)
    lm.model.eval()
    return losses


def save(lm: CausalLM, folder: Path) -> list[Path]:
    """Write the adapter (config + weights, float16) to ``folder``; returns the files."""
    safetensors = require("safetensors.torch", "llm")
    lm.model.save_pretrained(str(folder))
    (Path(folder) / "README.md").unlink(missing_ok=True)  # peft's empty template card
    weights = Path(folder) / "adapter_model.safetensors"
    tensors = safetensors.load_file(str(weights))
    safetensors.save_file({k: v.half().contiguous() for k, v in tensors.items()}, str(weights))
    return sorted(p for p in Path(folder).iterdir() if p.is_file())


# Applying a saved adapter is part of loading a model (``load_causal_lm(adapter=...)``), so it
# lives in causal_lm, below this module; ``lora.load`` stays the name callers use beside ``save``.
load = load_adapter


def write_card(
    out: Path,
    base: str,
    description: str,
    training: str,
    metrics: dict,
    header: str,
    licence: str = "Apache-2.0 (trained here; data as in the training summary)",
) -> Path:
    """The adapter's card ``out.yaml`` beside its folder: files with sha256, base, training
    summary and measured figures (checked at load by ``models.bundled.checked_entry``)."""
    out = Path(out)
    files = sorted(p for p in out.iterdir() if p.is_file())
    card = {
        "name": out.name,
        "task": "llm-adapter",
        "description": description,
        "format": "peft-lora",
        "entry": out.name,
        "licence": licence,
        "source": {
            "kind": "local",
            "path": "perception/llm/weights",
            "files": [
                {"path": f"{out.name}/{p.name}", "dest": p.name, "sha256": sha256_path(p)}
                for p in files
            ],
        },
        "base": base,
        "training": training,
        "metrics": metrics,
    }
    path = out.with_suffix(".yaml")
    text = yaml.safe_dump(card, sort_keys=False, width=99, allow_unicode=True)
    path.write_text(header + text, encoding="utf-8")
    return path
