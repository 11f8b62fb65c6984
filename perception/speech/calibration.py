"""Calibration files: the values fitted for one Whisper + LLM pair, found by the pair's checksums.

Owns the file format, where files are looked for, and matching a file to the models in use.
A file holds UADF's two temperatures, the static fusion weight and the guards' acceptance
margin, the checksums of the two models they were fitted for, and a description of the data.
The bundled pair's file ships in ``perception/speech/calibration/``; ``perception speech
calibrate`` writes new ones to ``$PERCEPTION_HOME/calibration/``, which is searched first.
It does not fit anything (see :mod:`perception.speech.evaluate`).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perception.config import from_dict, to_dict
from perception.errors import ConfigError
from perception.models.store import ModelStore, default_home, sha256_path

VERSION = 1
BUNDLED_DIR = Path(__file__).with_name("calibration")
COMMAND = "perception speech calibrate"


@dataclass(frozen=True)
class CalibrationFile:
    """Fitted values for one (Whisper, LLM) pair and where they came from."""

    asr_model: str
    asr_sha256: str
    llm_model: str
    llm_sha256: str
    asr_temperature: float
    llm_temperature: float
    static_weight: float
    acceptance_margin: float
    fitted_on: dict[str, Any] = field(default_factory=dict)
    version: int = VERSION


def model_fingerprint(name_or_path: str, store: ModelStore | None = None) -> str:
    """sha256 naming a model's weights: a card's pinned source files (no hashing of big files
    at load time), or a local file's / folder's contents."""
    path = Path(name_or_path)
    if path.exists():
        return sha256_path(path)
    lines = _pinned_files((store or ModelStore()).card(name_or_path))
    return hashlib.sha256(lines.encode()).hexdigest()


def _pinned_files(card) -> str:
    """A card's pinned files as sorted "dest sha256" lines."""
    return "\n".join(sorted(f"{f.dest} {f.sha256}" for f in card.source.files))


def llm_name(model: str, adapter: str = "") -> str:
    """How a calibration file names the LLM: the model, ``+adapter`` when one is merged in."""
    return f"{model}+{Path(adapter).name}" if adapter else model


def llm_fingerprint(model: str, adapter: str = "", store: ModelStore | None = None) -> str:
    """:func:`model_fingerprint` of the LLM, combined with the adapter's (a bundled adapter's
    card files, or a peft folder's contents): a tuned LLM has its own calibration."""
    base = model_fingerprint(model, store)
    if not adapter:
        return base
    from perception.llm.causal_lm import ADAPTER_DIR
    from perception.models.bundled import bundled_card

    if Path(adapter).is_dir():
        extra = sha256_path(Path(adapter))
    else:
        hint = "train it with `perception llm finetune`"
        extra = _pinned_files(bundled_card(ADAPTER_DIR, adapter, hint))
    return hashlib.sha256(f"{base}\n{extra}".encode()).hexdigest()


def file_name(asr_model: str, llm_model: str) -> str:
    """``ASR+LLM.json`` from card names, or from the file / folder names of local models."""
    clean = [Path(m).stem if Path(m).is_file() else Path(m).name for m in (asr_model, llm_model)]
    return f"{clean[0]}+{clean[1]}.json"


def user_dir() -> Path:
    return default_home() / "calibration"


def write(cal: CalibrationFile, folder: Path | None = None) -> Path:
    """Write ``cal`` as JSON into ``folder`` (default: the user calibration folder)."""
    folder = Path(folder) if folder else user_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(cal.asr_model, cal.llm_model)
    path.write_text(json.dumps(to_dict(cal), indent=1) + "\n", encoding="utf-8")
    return path


def read(path: Path) -> CalibrationFile:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"calibration file {path} cannot be read: {exc}") from None
    return from_dict(CalibrationFile, data, str(path))


def find(asr_sha256: str, llm_sha256: str, folders: list[Path] | None = None):
    """The first file (user folder, then bundled) fitted for exactly these two checksums."""
    for folder in folders if folders is not None else [user_dir(), BUNDLED_DIR]:
        for path in sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else []:
            cal = read(path)
            if (cal.asr_sha256, cal.llm_sha256) == (asr_sha256, llm_sha256):
                return cal
    return None


_warned: set[tuple[str, str]] = set()


def lookup(asr_model: str, llm_model: str, store: ModelStore | None = None, adapter: str = ""):
    """The calibration for this pair (the LLM with ``adapter`` merged in, when given), or None
    with a one-time warning naming the command."""
    cal = find(model_fingerprint(asr_model, store), llm_fingerprint(llm_model, adapter, store))
    llm_model = llm_name(llm_model, adapter)
    if cal is None and (asr_model, llm_model) not in _warned:
        _warned.add((asr_model, llm_model))
        warnings.warn(
            f"no calibration file for {asr_model} + {llm_model}: fusion runs with temperatures "
            f"1.0, static weight 0.5 and acceptance margin 0.1; fit them with `{COMMAND} "
            f"--config YOUR.yaml` (it writes {user_dir()})",
            stacklevel=2,
        )
    return cal
