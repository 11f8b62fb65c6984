"""The visual checkpoint: the landmark model and the visual speech model in one file, with the
vocabulary of the word head, beside its card (``perception/avsr/weights/NAME.{pt,yaml}``, sha256
checked on every load) and the AV calibration fitted for it (``NAME.calibration.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from perception.avsr.frontend import LandmarkNet
from perception.avsr.model import VisualSpeechNet
from perception.errors import ModelNotFoundError
from perception.models.store import checked_local_entry, sha256_file, write_local_card

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_NAME = "avsr-visual"
FORMAT = "perception-avsr-visual/1"
TRAIN_HINT = "train it with `perception avsr train --config configs/avsr/train.yaml`"


@dataclass
class Checkpoint:
    """Both models (eval mode), the word head's vocabulary, and the training report."""

    landmarks: LandmarkNet
    visual: VisualSpeechNet
    vocabulary: list[str]
    meta: dict


def save(path: Path, ckpt: Checkpoint) -> None:
    payload = {
        "format": FORMAT,
        "landmarks": ckpt.landmarks.state_dict(),
        "visual": ckpt.visual.state_dict(),
        "vocabulary": ckpt.vocabulary,
        "meta": ckpt.meta,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def resolve(weights: str) -> Path:
    """``""`` → the bundled checkpoint (checked); a name → that bundled one; else a path."""
    name = weights or DEFAULT_NAME
    if "/" not in name and not name.endswith(".pt"):
        return checked_local_entry(WEIGHTS_DIR / f"{name}.yaml", "AVSR visual model", TRAIN_HINT)
    return Path(name)


def load(weights: str = "") -> Checkpoint:
    path = resolve(weights)
    if not path.is_file():
        raise ModelNotFoundError(f"no AVSR visual checkpoint at {path}; {TRAIN_HINT}")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("format") != FORMAT:
        raise ModelNotFoundError(
            f"{path} is not a {FORMAT} checkpoint (format {payload.get('format')!r}); {TRAIN_HINT}"
        )
    landmarks = LandmarkNet()
    landmarks.load_state_dict(payload["landmarks"])
    vocab = list(payload["vocabulary"])
    visual = VisualSpeechNet(len(vocab))
    visual.load_state_dict(payload["visual"])
    return Checkpoint(landmarks.eval(), visual.eval(), vocab, dict(payload["meta"]))


def calibration_path(weights: str = "") -> Path:
    return resolve(weights).with_suffix(".calibration.json")


def load_calibration(weights: str = "") -> dict | None:
    """The temperatures fitted by ``perception avsr-eval`` for this checkpoint, or None."""
    path = calibration_path(weights)
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    if data.get("checkpoint_sha256") != sha256_file(resolve(weights)):
        return None  # fitted for other weights
    return data


def write_card(checkpoint: Path, report: dict) -> Path:
    """A model card beside ``checkpoint`` recording its sha256 and how it was trained."""
    fields = {
        "task": "visual-speech",
        "description": (
            "landmark CNN (eyes, mouth, face present) and visual speech model (mouth-crop CNN + "
            "BiGRU: speaking or not, and the command word being said) for rendered talking faces"
        ),
        "format": "perception-avsr-visual",
        "training": (
            "rendered talking faces (perception.avsr.face) speaking the speech corpus's training "
            f"commands, no evaluation sentence; report: {json.dumps(report)}"
        ),
    }
    return write_local_card(Path(checkpoint), fields, "perception avsr train")
