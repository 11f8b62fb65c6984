"""The vision capability's public types: what a text detector returns, and its interface.

Shared by the library's detectors, the evaluation and the ROS nodes; it knows no model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

UNKNOWN_LANGUAGE = "unknown"


@dataclass(frozen=True)
class TextRegion:
    """One text region in an image.

    ``polygon_px`` is a closed polygon as (x, y) pixel corners in image coordinates, clockwise
    from the top-left; ``language`` is a registry code or :data:`UNKNOWN_LANGUAGE`;
    ``score`` is the detection confidence in [0, 1] and ``language_score`` the language map's.
    """

    polygon_px: tuple[tuple[float, float], ...]
    score: float
    language: str = UNKNOWN_LANGUAGE
    language_score: float = 0.0
    text: str = ""


class TextDetector(Protocol):
    """Anything that finds text regions in an RGB image."""

    def detect(self, image: np.ndarray) -> list[TextRegion]:
        """Args: image (H, W, 3) uint8 RGB. Returns: regions, highest score first."""
        ...
