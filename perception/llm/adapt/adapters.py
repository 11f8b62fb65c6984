"""LoRA and Kronecker-product (DiffuseKronA) adapters through peft, and their parameter counts.

The Kronecker adapter uses peft's LoKr layer configured as DiffuseKronA's ΔW = A ⊗ B: A is
a1 × a2 (a1 = a2 = ``kron_factor`` when it divides both sides), B is b1 × b2 with a1·b1 = d_out
and a2·b2 = d_in, and neither factor is split into low-rank parts (peft keeps B whole when its
``r`` is at least half of B's larger side, so ``r`` is set that large; ``alpha = r`` keeps the
scale at 1). It knows nothing about training data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from perception.config import check
from perception.errors import require

ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP = ("gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class AdapterOptions:
    """Which adapter, its size, and the projections it wraps."""

    kind: Literal["lora", "kron"] = "lora"
    rank: int = 8  # LoRA rank (ignored by kron)
    alpha: int = 16  # LoRA scale alpha / rank (ignored by kron: its scale is 1)
    kron_factor: int = 8  # a1 = a2 of the Kronecker factor A (ignored by lora)
    targets: tuple[str, ...] = ATTENTION + MLP

    def __post_init__(self) -> None:
        check(self.rank >= 1, f"rank must be >= 1, got {self.rank}")
        check(self.kron_factor >= 1, f"kron_factor must be >= 1, got {self.kron_factor}")
        check(len(self.targets) > 0, "targets must name at least one projection")


def _kron_r(model: torch.nn.Module, options: AdapterOptions) -> int:
    """The peft ``r`` that keeps every B factor whole (full rank) for these targets."""
    sides = [1]
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and name.split(".")[-1] in options.targets:
            for side in (module.in_features, module.out_features):
                check(
                    side % options.kron_factor == 0,
                    f"kron_factor {options.kron_factor} must divide {name}'s side {side}; "
                    "choose a divisor of every targeted width",
                )
                sides.append(side // options.kron_factor)
    return max(sides)  # r >= max(b1, b2) / 2 is enough; max(b) leaves a margin


def peft_config(model: torch.nn.Module, options: AdapterOptions):
    """The peft config for ``options`` on ``model`` (LoraConfig or LoKrConfig)."""
    peft = require("peft", "llm")
    if options.kind == "lora":
        return peft.LoraConfig(
            r=options.rank,
            lora_alpha=options.alpha,
            target_modules=list(options.targets),
            lora_dropout=0.0,
        )
    r = _kron_r(model, options)
    return peft.LoKrConfig(
        r=r,
        alpha=r,  # scale alpha / r = 1
        target_modules=list(options.targets),
        decompose_both=False,  # A stays whole
        decompose_factor=options.kron_factor,
    )


def attach(model: torch.nn.Module, options: AdapterOptions):
    """``model`` wrapped by peft with a fresh trainable adapter; base weights frozen.

    LoRA starts with B = 0 and LoKr with A = 0, so the wrapped model first computes what the
    base model computes.
    """
    peft = require("peft", "llm")
    return peft.get_peft_model(model, peft_config(model, options))


def trainable_parameters(model: torch.nn.Module) -> int:
    """The number of parameters with ``requires_grad``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@dataclass(frozen=True)
class ParameterRow:
    """One adapter's size on one model."""

    name: str
    trainable: int
    base: int
    fraction_pct: float


def parameter_row(name: str, wrapped: torch.nn.Module) -> ParameterRow:
    """Trainable vs frozen parameters of a peft-wrapped model."""
    trainable = trainable_parameters(wrapped)
    base = sum(p.numel() for p in wrapped.parameters() if not p.requires_grad)
    return ParameterRow(name, trainable, base, round(100.0 * trainable / base, 4))
