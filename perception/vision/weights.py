"""MENTOR checkpoints: one file holding MENTOR, the script-ID baseline and their configs.

This module owns the checkpoint format and the bundled models: ``mentor-large`` (the default,
from ``configs/vision/large.yaml``, 38 training languages) and ``mentor-small`` (from
``configs/vision/small.yaml``, 24), both trained on this project's CPU. Each file lives beside
its model card (``perception/vision/weights/NAME.{pt,yaml}``), not in ``models/``, because
project cards there must be PyPI-pinned (tests/models/test_store.py); the card has the same schema
(:class:`~perception.models.cards.ModelCard`, local source, sha256) and is checked on every
load. It does not know how the weights were trained.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from perception.errors import ModelNotFoundError
from perception.models.store import checked_local_entry, write_local_card
from perception.vision.mentor import Mentor, MentorConfig
from perception.vision.script_id import ScriptIdNet

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_NAME = "mentor-large"
FORMAT = "perception-mentor/4"  # 4: heads over recogniser features of 48-px colour line crops
_TRAIN_HINT = "train it with `perception vision train --config configs/vision/small.yaml`"


@dataclass
class Checkpoint:
    """Loaded modules (eval mode) and the language codes of their outputs."""

    mentor: Mentor
    seen_languages: list[str]
    script_id: ScriptIdNet
    script_id_classes: list[str]
    meta: dict


def save(path: Path, ckpt: Checkpoint) -> None:
    payload = {
        "format": FORMAT,
        "mentor_config": dataclasses.asdict(ckpt.mentor.cfg),
        "mentor": ckpt.mentor.state_dict(),
        "seen_languages": ckpt.seen_languages,
        "script_id": ckpt.script_id.state_dict(),
        "script_id_classes": ckpt.script_id_classes,
        "meta": ckpt.meta,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def bundled_names() -> list[str]:
    """Names of the checkpoints shipped in the package (each has a card beside it)."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.yaml"))


def bundled_path(name: str = DEFAULT_NAME) -> Path:
    """A bundled checkpoint by name, after checking it against its card's sha256."""
    return checked_local_entry(WEIGHTS_DIR / f"{name}.yaml", "MENTOR model", _TRAIN_HINT)


def resolve(weights: str) -> Path:
    """``""`` → the default bundled model; a bundled name (``mentor-small``) → its checked file;
    anything else is a checkpoint path."""
    if not weights:
        return bundled_path()
    if "/" not in weights and not weights.endswith(".pt"):
        return bundled_path(weights)
    return Path(weights)


def load(path: Path | None = None, device: str = "cpu") -> Checkpoint:
    """Read a checkpoint (default: the default bundled one) into eval-mode modules."""
    path = bundled_path() if path is None else Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"no MENTOR checkpoint at {path}; {_TRAIN_HINT}")
    payload = torch.load(path, map_location=device, weights_only=True)
    if payload.get("format") != FORMAT:
        raise ModelNotFoundError(
            f"{path} is not a {FORMAT} checkpoint (format {payload.get('format')!r}); "
            + _TRAIN_HINT
        )
    mentor = Mentor(MentorConfig(**payload["mentor_config"]))
    mentor.load_state_dict(payload["mentor"])
    classes = list(payload["script_id_classes"])
    script_id = ScriptIdNet(len(classes), mentor.cfg.feature_dim)
    script_id.load_state_dict(payload["script_id"])
    return Checkpoint(
        mentor.to(device).eval(),
        list(payload["seen_languages"]),
        script_id.to(device).eval(),
        classes,
        dict(payload["meta"]),
    )


def write_card(checkpoint: Path, scenes: int, steps: int) -> Path:
    """A model card beside ``checkpoint`` (same stem, ``.yaml``) recording its sha256."""
    fields = {
        "task": "text-detection",
        "description": (
            f"MENTOR guide + mapper + Text Finder and the script-ID baseline, trained on {scenes} "
            f"synthetic scenes for {steps} episodes, over frozen PP-OCRv4 recogniser features of "
            "48-pixel line crops"
        ),
        "format": "perception-mentor",
        "inputs": [
            {"name": "region_features", "shape": ["batch", 960], "dtype": "float32"},
            {"name": "template_features", "shape": ["languages", "K", 960], "dtype": "float32"},
        ],
        "outputs": [
            {"name": "region_logits", "shape": ["batch", "languages + 1"], "dtype": "float32"}
        ],
    }
    return write_local_card(Path(checkpoint), fields, "perception vision train")
