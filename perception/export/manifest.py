"""Manifests beside exported graphs and engines, and the check that refuses a mismatched one.

A manifest records what an artifact was built from and for: the file's own sha256, the source it
came from (weights for an ONNX graph, the ONNX graph for an engine) and that source's sha256,
precision, input shapes and optimisation profiles, the project version, tool versions, and for
an engine the TensorRT and CUDA versions, GPU name and compute capability (``sm_XX``). An engine
is only valid on the GPU architecture and TensorRT version it was built with; the loader compares
the manifest with the machine it runs on and refuses with both sides named and the command that
rebuilds. This module reads and writes JSON; it never imports TensorRT.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from perception.config import from_dict, to_dict
from perception.errors import PerceptionError
from perception.models.store import sha256_file

Kind = Literal["onnx", "engine"]


class ManifestMismatch(PerceptionError):
    """An artifact was built for another machine, tool version or source."""


@dataclass(frozen=True)
class Shapes:
    """TensorRT optimisation profile of one input: min / opt / max dimensions."""

    min: tuple[int, ...]
    opt: tuple[int, ...]
    max: tuple[int, ...]


@dataclass(frozen=True)
class Manifest:
    """Everything needed to decide whether an artifact may be loaded here.

    ``inputs`` names each input's axes (ints for fixed ones, names for dynamic ones);
    ``tensorrt``, ``cuda``, ``gpu_name`` and ``compute_capability`` are empty for ONNX graphs.
    ``rebuild`` is the command that writes this artifact again.
    """

    model: str
    file: str
    kind: Kind
    sha256: str
    source: str
    source_sha256: str
    precision: str
    project_version: str
    rebuild: str
    opset: int = 0
    inputs: dict[str, tuple[int | str, ...]] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()
    profiles: dict[str, Shapes] = field(default_factory=dict)
    tools: dict[str, str] = field(default_factory=dict)
    tensorrt: str = ""
    cuda: str = ""
    gpu_name: str = ""
    compute_capability: str = ""
    trtexec: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Machine:
    """What the loading machine offers: TensorRT version, CUDA version, GPU and its sm_XX."""

    tensorrt: str = ""
    cuda: str = ""
    gpu_name: str = ""
    compute_capability: str = ""


def manifest_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + ".manifest.json")


def write_manifest(manifest: Manifest, folder: Path) -> Path:
    path = manifest_path(folder / manifest.file)
    path.write_text(json.dumps(to_dict(manifest), indent=1) + "\n", encoding="utf-8")
    return path


def read_manifest(artifact: Path) -> Manifest:
    """The manifest beside ``artifact``; a missing one names the command that writes it."""
    path = manifest_path(artifact)
    if not path.is_file():
        raise ManifestMismatch(
            f"no manifest at {path}: artifacts without one are not loaded; "
            "write both with `perception export`"
        )
    return from_dict(Manifest, json.loads(path.read_text(encoding="utf-8")), path.name)


def _minor(version: str) -> str:
    """``10.3.0.26`` → ``10.3``: TensorRT engines are tied to the major.minor release."""
    return ".".join(version.split(".")[:2])


def check_file(manifest: Manifest, artifact: Path) -> None:
    """Refuse a file whose bytes are not the ones the manifest describes."""
    got = sha256_file(artifact)
    if got != manifest.sha256:
        raise ManifestMismatch(
            f"{artifact} has sha256 {got[:12]}…, its manifest says {manifest.sha256[:12]}…; "
            f"the file changed after export: rebuild with `{manifest.rebuild}`"
        )


def check_source(manifest: Manifest, source_sha256: str) -> None:
    """Refuse an artifact built from other weights (or another ONNX graph) than ``source``."""
    if source_sha256 != manifest.source_sha256:
        raise ManifestMismatch(
            f"{manifest.file} was built from {manifest.source} with sha256 "
            f"{manifest.source_sha256[:12]}…, the source here has {source_sha256[:12]}…; "
            f"rebuild with `{manifest.rebuild}`"
        )


def check_engine(manifest: Manifest, here: Machine) -> None:
    """Refuse an engine built for another GPU architecture or TensorRT release.

    Raises:
        ManifestMismatch: naming what the engine was built for, what this machine has, and the
            command that rebuilds the engine here.
    """
    if manifest.kind != "engine":
        raise ManifestMismatch(f"{manifest.file} is a {manifest.kind} file, not a TensorRT engine")
    problems = []
    if not here.tensorrt:
        problems.append(f"TensorRT {manifest.tensorrt} (this machine has no TensorRT)")
    elif _minor(here.tensorrt) != _minor(manifest.tensorrt):
        problems.append(f"TensorRT {manifest.tensorrt} (this machine has {here.tensorrt})")
    if here.compute_capability != manifest.compute_capability:
        seen = (
            f"{here.gpu_name} {here.compute_capability}" if here.compute_capability else "no GPU"
        )
        problems.append(
            f"{manifest.gpu_name} {manifest.compute_capability} (this machine has {seen})"
        )
    if problems:
        raise ManifestMismatch(
            f"engine {manifest.file} was built for "
            + "; for ".join(problems)
            + f"; rebuild it on this machine with `{manifest.rebuild}`"
        )


def onnx_manifest(
    path: Path, source: Path, source_sha256: str, rebuild: str, **fields
) -> Manifest:
    """The manifest of an fp32 ONNX graph file: its inputs' axes and outputs read from the file,
    tool versions from this process; ``fields`` sets any other :class:`Manifest` field."""
    import onnx
    import onnxruntime
    import torch

    from perception import __version__

    model = onnx.load(str(path), load_external_data=False)
    inputs = {
        i.name: tuple(d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim)
        for i in model.graph.input
    }
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    tools = {
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
    base = dict(
        model=path.stem, file=path.name, kind="onnx", sha256=sha256_file(path), source=str(source),
        source_sha256=source_sha256, precision="fp32", project_version=__version__,
        rebuild=rebuild, opset=opset, inputs=inputs,
        outputs=tuple(o.name for o in model.graph.output), tools=tools,
    )  # fmt: skip
    return Manifest(**{**base, **fields})


def graphs_current(paths: list[Path], source_sha256: str) -> bool:
    """True when every file exists, matches its manifest, and was built from this source."""
    try:
        for path in paths:
            manifest = read_manifest(path)
            check_file(manifest, path)
            check_source(manifest, source_sha256)
    except (ManifestMismatch, FileNotFoundError):
        return False
    return True
