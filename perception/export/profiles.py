"""Export profiles: what one target machine gets, read from ``export/<name>.yaml``.

A profile names the target's runtime (TensorRT engines or onnxruntime), its GPU and compute
capability where known, the default precision, the TensorRT workspace, DLA core and version
range, the calibration data for int8, the models it carries, and min / opt / max shapes for every
dynamic graph input (TensorRT optimisation profiles). It is read with the project's config loader
and checked at construction; it knows nothing about how graphs are made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from perception.config import check, load_yaml
from perception.errors import ConfigError
from perception.export.manifest import Shapes

Precision = Literal["fp32", "fp16", "int8"]
TargetRuntime = Literal["tensorrt", "onnxruntime"]
MODELS: tuple[str, ...] = ("whisper", "vad", "detector", "mentor", "guard", "llm")
PROFILES_DIR = Path(__file__).resolve().parents[2] / "export"


@dataclass(frozen=True)
class VersionRange:
    """TensorRT releases the target may have, as ``major.minor`` strings, both ends included."""

    min: str
    max: str

    def contains(self, version: str) -> bool:
        return _key(self.min) <= _key(version) <= _key(self.max)


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".")[:2] if p.isdigit())


@dataclass(frozen=True)
class Calibration:
    """Project data the int8 calibrators read: audio files (Whisper, VAD), image files or
    folders (detector, recogniser), and at most ``batches`` batches of each."""

    audio: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    batches: int = 8

    def __post_init__(self) -> None:
        check(self.batches >= 1, f"calibration.batches must be >= 1, got {self.batches}")


@dataclass(frozen=True)
class ExportProfile:
    """One target. ``shapes[graph][input]`` is that input's optimisation profile;
    ``dla_core`` -1 = no DLA; ``workspace_mib`` is TensorRT's workspace memory pool."""

    name: str
    description: str
    runtime: TargetRuntime
    precision: Precision = "fp16"
    gpu_name: str = ""
    compute_capability: str = ""
    tensorrt: VersionRange | None = None
    workspace_mib: int = 1024
    dla_core: int = -1
    calibration: Calibration = field(default_factory=Calibration)
    models: tuple[str, ...] = MODELS
    shapes: dict[str, dict[str, Shapes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [m for m in self.models if m not in MODELS]
        check(not unknown, f"models {unknown} unknown; known: {', '.join(MODELS)}")
        check(self.workspace_mib >= 16, f"workspace_mib must be >= 16, got {self.workspace_mib}")
        check(self.dla_core >= -1, f"dla_core must be -1 (none) or >= 0, got {self.dla_core}")
        check(
            self.runtime != "tensorrt" or self.tensorrt is not None,
            f"profile {self.name}: a tensorrt target needs a `tensorrt: {{min, max}}` range",
        )
        check(
            not self.compute_capability or self.compute_capability.startswith("sm_"),
            f"compute_capability must look like sm_87, got {self.compute_capability!r}",
        )
        for graph, inputs in self.shapes.items():
            for name, s in inputs.items():
                _check_shapes(f"shapes.{graph}.{name}", s)


def _check_shapes(where: str, s: Shapes) -> None:
    check(
        len(s.min) == len(s.opt) == len(s.max),
        f"{where}: min, opt and max must have the same rank",
    )
    ordered = all(a <= b <= c for a, b, c in zip(s.min, s.opt, s.max, strict=True))
    check(ordered, f"{where}: need min <= opt <= max on every axis, got {s}")
    check(all(d >= 0 for d in s.min), f"{where}: dimensions must be >= 0")


def profile_names(folder: Path = PROFILES_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.yaml") if not p.stem.startswith("tensorrt-"))


def load_profile(name: str, folder: Path = PROFILES_DIR) -> ExportProfile:
    """``export/<name>.yaml`` (or a path to a YAML file) as a checked profile."""
    path = Path(name) if name.endswith(".yaml") else folder / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"no export profile {name!r} ({path} does not exist); "
            f"profiles here: {', '.join(profile_names(folder))}"
        )
    return load_yaml(ExportProfile, path)
