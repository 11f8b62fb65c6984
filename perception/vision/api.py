"""The vision capability's public entry: the one place that picks a detector.

``load_detector(VisionOptions(...))`` returns a :class:`~perception.vision.types.TextDetector`;
callers (CLI, ROS node, evaluation) never construct backends themselves. This module knows which
class implements each choice; the option fields live in :mod:`perception.vision.options`
(``VisionOptions`` is importable from here too), and it does not know how any backend works.
"""

from __future__ import annotations

from perception.errors import ConfigError
from perception.models.store import ModelStore
from perception.vision.options import VisionOptions
from perception.vision.types import TextDetector


def load_detector(options: VisionOptions, store: ModelStore | None = None) -> TextDetector:
    """The detector that ``options.detector`` names, with its weights checked and loaded.

    Raises:
        ModelNotFoundError / ChecksumError: the PP-OCRv4 detector or MENTOR weights are missing
            or changed (the message names the command that fixes it).
    """
    import torch

    from perception.vision import detectors

    if options.device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"vision.device is {options.device!r} but torch sees no CUDA GPU; use 'cpu' "
            "(`perception doctor` shows what torch sees)"
        )
    store = ModelStore() if store is None else store
    build = {
        "mentor": detectors.MentorDetector,
        "ppocr": detectors.PpocrDetector,
        "script-id": detectors.ScriptIdDetector,
    }[options.detector]
    return build(options, store)
