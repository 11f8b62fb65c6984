"""The one place that turns ``runtime`` and ``device`` options into an onnxruntime session.

Owns the choice of execution providers (TensorRT, then CUDA, then CPU, keeping only those the
installed onnxruntime offers and the device allows), the thread settings, and logging which
providers a session really got. It knows nothing about any model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Runtime = Literal["torch", "onnxruntime", "tensorrt"]
RUNTIMES: tuple[str, ...] = ("torch", "onnxruntime", "tensorrt")
_PREFERRED = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrtSession:
    """A session and the providers it runs on, best first (for logs and /diagnostics)."""

    session: object
    providers: tuple[str, ...]
    path: str


def pick_providers(available: list[str], device: str) -> list[str]:
    """Providers in preference order: GPU ones only when ``device`` is not ``cpu``."""
    wanted = _PREFERRED if device != "cpu" else ("CPUExecutionProvider",)
    chosen = [p for p in wanted if p in available]
    return chosen or ["CPUExecutionProvider"]


def ort_session(path: Path | bytes, device: str = "auto", threads: int = 0) -> OrtSession:
    """An onnxruntime session over ``path`` (or a serialised graph) with the providers
    :func:`pick_providers` selects.

    Args:
        device: ``cpu``, ``cuda[:N]`` or ``auto`` (GPU providers when onnxruntime has them).
        threads: intra-op threads (0 = onnxruntime's default).
    """
    import onnxruntime as ort  # a core dependency; imported here to keep module import light

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    wanted = pick_providers(ort.get_available_providers(), device)
    in_memory = isinstance(path, bytes)
    session = ort.InferenceSession(path if in_memory else str(path), options, providers=wanted)
    got = tuple(session.get_providers())
    name = "in-memory graph" if in_memory else Path(path).name
    log.info("onnxruntime %s: providers %s", name, ", ".join(got))
    return OrtSession(session, got, name)
