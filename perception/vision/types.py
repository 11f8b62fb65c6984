"""The vision capability's public types: what a text detector returns, and its interface.

Shared by the library's detectors, the evaluation and the ROS nodes; it knows no model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from perception.errors import PerceptionError

UNKNOWN_LANGUAGE = "unknown"
NO_LANGUAGE = "zxx"  # ISO 639-2: no linguistic content (numbers, symbols)


class ImageError(PerceptionError, ValueError):
    """An image that cannot be read or is not an (H, W, 3) uint8 RGB array with pixels."""


@dataclass(frozen=True)
class Reading:
    """What a recogniser read in a region: ``text`` with its ``score`` (mean CTC confidence
    in [0, 1]) and the ``reader`` model; or, with no reader for the region's script, empty text
    and a ``note`` that says so."""

    text: str = ""
    score: float = 0.0
    reader: str = ""
    note: str = ""


@dataclass(frozen=True)
class TextRegion:
    """One text region in an image.

    ``polygon_px`` is a closed polygon as (x, y) pixel corners in image coordinates, clockwise
    from the top-left; ``language`` is a registry code or :data:`UNKNOWN_LANGUAGE`;
    ``score`` is the detection confidence in [0, 1] and ``language_score`` the language map's;
    ``text`` and ``text_score`` are the reading (empty / 0 when none), ``reader`` the model that
    read it and ``text_note`` why there is none; ``mode`` is "detect" (a detected box) or
    "whole-image" (the image was itself a word or a line and was read whole).
    """

    polygon_px: tuple[tuple[float, float], ...]
    score: float
    language: str = UNKNOWN_LANGUAGE
    language_score: float = 0.0
    text: str = ""
    text_score: float = 0.0
    reader: str = ""
    text_note: str = ""
    mode: str = "detect"


class TextDetector(Protocol):
    """Anything that finds text regions in an RGB image."""

    def detect(self, image: np.ndarray) -> list[TextRegion]:
        """Args: image (H, W, 3) uint8 RGB. Returns: regions, highest score first."""
        ...
