"""The stack's top-level configuration: one field per capability, loaded from YAML.

Defaults live only in the capability option dataclasses; this file just assembles them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from perception.config import from_dict, load_yaml
from perception.speech.whisper_backend import WhisperOptions


@dataclass(frozen=True)
class PerceptionConfig:
    """Options for every capability; a YAML file may set any subset of fields."""

    asr: WhisperOptions = field(default_factory=WhisperOptions)


def load_config(path: Path | None) -> PerceptionConfig:
    """Defaults when ``path`` is None, else the YAML file checked field by field."""
    return from_dict(PerceptionConfig, {}) if path is None else load_yaml(PerceptionConfig, path)
