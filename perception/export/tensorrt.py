"""TensorRT engines from checked ONNX graphs, on the machine that will run them.

Owns the builder (TensorRT's Python API: ONNX parser, one optimisation profile per graph from
the export profile's shapes, FP16 / INT8 flags, an entropy calibrator over the project's
calibration batches, a timing cache reused between builds), the equivalent ``trtexec`` command
line for JetPack users, and reading what TensorRT and GPU a machine has. TensorRT cannot be
installed on the machines this project is developed on (its PyPI packages fetch the libraries
from NVIDIA's index at install time): everything here that needs it stops at
:func:`require_tensorrt` with one line saying so; nothing claims an engine it did not build.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from perception.errors import PerceptionError
from perception.export.manifest import Machine, Shapes


class TensorRTUnavailable(PerceptionError):
    """``import tensorrt`` failed here."""


def require_tensorrt(what: str):
    """The ``tensorrt`` module, or :class:`TensorRTUnavailable` with one line naming ``what``."""
    try:
        import tensorrt
    except ImportError as exc:
        raise TensorRTUnavailable(
            f"{what} needs TensorRT, and `import tensorrt` fails here ({exc}); install it on the "
            "Jetson (JetPack) or GPU machine (`pip install -e '.[gpu]'`) and run it there"
        ) from None
    return tensorrt


def machine_here() -> Machine:
    """TensorRT version, CUDA version, GPU name and sm_XX of this machine ("" where absent)."""
    try:
        import tensorrt

        trt_version = tensorrt.__version__
    except ImportError:
        trt_version = ""
    try:
        import torch

        if torch.cuda.is_available():
            major, minor = torch.cuda.get_device_capability(0)
            return Machine(
                trt_version,
                torch.version.cuda or "",
                torch.cuda.get_device_name(0),
                f"sm_{major}{minor}",
            )
    except ImportError:
        pass
    return Machine(tensorrt=trt_version)


@dataclass(frozen=True)
class BuildPlan:
    """What to build: one engine from one ONNX graph."""

    onnx: Path
    engine: Path
    precision: str
    shapes: dict[str, Shapes]
    workspace_mib: int
    dla_core: int = -1
    timing_cache: Path | None = None
    calibration_cache: Path | None = None


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


def trtexec_command(plan: BuildPlan) -> str:
    """The ``trtexec`` line that builds the same engine (TensorRT 8.6 and 10.x flags)."""
    parts = [
        "trtexec",
        f"--onnx={plan.onnx.name}",
        f"--saveEngine={plan.engine.name}",
        f"--memPoolSize=workspace:{plan.workspace_mib}",  # MiB
    ]
    if plan.shapes:
        for key in ("min", "opt", "max"):
            spec = ",".join(f"{n}:{_dims(getattr(s, key))}" for n, s in plan.shapes.items())
            parts.append(f"--{key}Shapes={spec}")
    if plan.precision in ("fp16", "int8"):
        parts.append("--fp16")
    if plan.precision == "int8":
        cache = plan.calibration_cache.name if plan.calibration_cache else "calibration.cache"
        parts += ["--int8", f"--calib={cache}"]
    if plan.dla_core >= 0:
        parts += [f"--useDLACore={plan.dla_core}", "--allowGPUFallback"]
    if plan.timing_cache is not None:
        parts.append(f"--timingCacheFile={plan.timing_cache.name}")
    return " ".join(parts)


def build_engine(plan: BuildPlan, calibration: Iterator[dict[str, np.ndarray]] | None = None):
    """Build and write ``plan.engine`` with TensorRT's Python API; returns the path.

    Args:
        calibration: batches of named float32 inputs for INT8 (required when
            ``plan.precision`` is int8); read once, the scales are cached beside the engine.

    Raises:
        TensorRTUnavailable: ``import tensorrt`` fails on this machine.
        PerceptionError: the parser rejects the graph (its errors are in the message).
    """
    trt = require_tensorrt(f"building {plan.engine.name}")
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 0
    if hasattr(trt.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH"):  # implicit in TensorRT 10
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(plan.onnx)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise PerceptionError(f"TensorRT's ONNX parser rejected {plan.onnx}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, plan.workspace_mib << 20)
    _add_profile(builder, config, plan)
    _set_precision(trt, config, plan, calibration)
    cache = _timing_cache(config, plan)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise PerceptionError(f"TensorRT could not build {plan.engine.name}; see its log above")
    plan.engine.write_bytes(bytes(serialized))
    if cache is not None and plan.timing_cache is not None:
        plan.timing_cache.write_bytes(bytes(cache.serialize()))
    return plan.engine


def _add_profile(builder, config, plan: BuildPlan) -> None:
    if not plan.shapes:
        return
    profile = builder.create_optimization_profile()
    for name, s in plan.shapes.items():
        profile.set_shape(name, s.min, s.opt, s.max)
    config.add_optimization_profile(profile)


def _set_precision(trt, config, plan: BuildPlan, calibration) -> None:
    if plan.precision in ("fp16", "int8"):
        config.set_flag(trt.BuilderFlag.FP16)
    if plan.precision == "int8":
        if calibration is None:
            raise PerceptionError(f"int8 engine {plan.engine.name} needs calibration batches")
        config.set_flag(trt.BuilderFlag.INT8)
        config.int8_calibrator = entropy_calibrator(trt, calibration, plan.calibration_cache)
    if plan.dla_core >= 0:
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = plan.dla_core
        config.set_flag(trt.BuilderFlag.GPU_FALLBACK)


def _timing_cache(config, plan: BuildPlan):
    if plan.timing_cache is None:
        return None
    old = plan.timing_cache.read_bytes() if plan.timing_cache.is_file() else b""
    cache = config.create_timing_cache(old)
    config.set_timing_cache(cache, ignore_mismatch=False)
    return cache


def entropy_calibrator(trt, batches: Iterator[dict[str, np.ndarray]], cache: Path | None):
    """A ``trt.IInt8EntropyCalibrator2`` over ``batches`` (device copies made with torch's CUDA
    allocator, which every target of this project has)."""
    import torch

    class Calibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self) -> None:
            super().__init__()
            self.batches, self.live = batches, {}

        def get_batch_size(self) -> int:
            return 1

        def get_batch(self, names):
            batch = next(self.batches, None)
            if batch is None:
                return None
            self.live = {n: torch.from_numpy(batch[n]).cuda() for n in names}
            return [int(self.live[n].data_ptr()) for n in names]

        def read_calibration_cache(self):
            return cache.read_bytes() if cache is not None and cache.is_file() else None

        def write_calibration_cache(self, data) -> None:
            if cache is not None:
                cache.write_bytes(bytes(data))

    return Calibrator()


def load_engine(path: Path):
    """Deserialise an engine after its manifest was checked against this machine."""
    from perception.export.manifest import check_engine, check_file, read_manifest

    manifest = read_manifest(path)
    check_engine(manifest, machine_here())
    check_file(manifest, path)
    trt = require_tensorrt(f"loading {path.name}")
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    return runtime.deserialize_cuda_engine(path.read_bytes())
