"""The stack's top-level configuration: one field per capability, loaded from YAML.

Defaults live only in the capability option dataclasses; this file just assembles them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from perception.config import from_dict, load_yaml
from perception.speech.api import SpeechOptions
from perception.vision.api import VisionOptions


@dataclass(frozen=True)
class PerceptionConfig:
    """Options for every capability; a YAML file may set any subset of fields."""

    speech: SpeechOptions = field(default_factory=SpeechOptions)
    vision: VisionOptions = field(default_factory=VisionOptions)


def load_config(path: Path | None) -> PerceptionConfig:
    """Defaults when ``path`` is None, else the YAML file checked field by field."""
    return from_dict(PerceptionConfig, {}) if path is None else load_yaml(PerceptionConfig, path)
