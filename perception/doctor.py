"""What this machine can run: runtimes, accelerators, ROS 2, system tools and models.

Every probe imports or runs the real thing and reports what it saw; nothing is inferred from
package metadata alone. The module does not install or fix anything: each failed check says
what would.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from perception.models.store import ModelStore

State = Literal["ok", "missing", "failed", "info"]


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    group: str
    name: str
    state: State
    detail: str


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return ""


def _import_check(
    group: str, module: str, dist: str, fix: str, detail: Callable[[object], str] | None = None
) -> Check:
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 -- any import failure is a finding to report
        state: State = "missing" if isinstance(exc, ModuleNotFoundError) else "failed"
        return Check(group, module, state, f"{type(exc).__name__}: {exc}; {fix}")
    text = _version(dist) or getattr(mod, "__version__", "?")
    if detail:
        text = f"{text}; {detail(mod)}"
    return Check(group, module, "ok", text)


def _torch_detail(torch) -> str:
    if not torch.cuda.is_available():
        return f"CUDA not available (build CUDA {torch.version.cuda or 'none'}); runs on CPU"
    names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    return f"CUDA {torch.version.cuda}: {names}"


def _ort_detail(ort) -> str:
    return "providers: " + ", ".join(ort.get_available_providers())


def runtime_checks() -> list[Check]:
    """Python packages the stack runs on, with versions and accelerators seen."""
    core = "reinstall the project: `pip install -e .`"
    return [
        Check("runtime", "python", "info", platform.python_version()),
        _import_check("runtime", "torch", "torch", core, _torch_detail),
        _import_check("runtime", "torchaudio", "torchaudio", core),
        _import_check("runtime", "onnxruntime", "onnxruntime", core, _ort_detail),
        _import_check("runtime", "whisper", "openai-whisper", core),
        _import_check("runtime", "ctranslate2", "ctranslate2", "`pip install -e '.[dev]'`"),
        _import_check("extra:llm", "transformers", "transformers", "`pip install -e '.[llm]'`"),
        _import_check("extra:llm", "gguf", "gguf", "`pip install -e '.[llm]'`"),
        _import_check("extra:ros", "rclpy", "ros-kilted-rclpy", "`pip install -e '.[ros]'`"),
        _import_check(
            "extra:ros",
            "perception_msgs.msg",
            "perception_msgs",
            "build the interfaces: `bash scripts/build_ros_msgs.sh`",
        ),
        _import_check(
            "extra:ros",
            "perception_ros",
            "perception_ros",
            "`pip install -e ros2_ws/src/perception_ros`",
        ),
        _import_check(
            "extra:gpu",
            "tensorrt",
            "tensorrt",
            "TensorRT installs only from NVIDIA's index: `pip install -e '.[gpu]'` on a "
            "Jetson or GPU box; export still writes and checks ONNX without it",
        ),
    ]


def tool_checks() -> list[Check]:
    """System programs used for decoding audio and making test data."""
    tools = {
        "ffmpeg": "decodes audio formats soundfile cannot",
        "espeak-ng": "speech synthesis",
        "sox": "noise and effects for test audio",
    }
    return [
        Check(
            "tools",
            name,
            "ok" if shutil.which(name) else "missing",
            shutil.which(name) or f"{why}; `apt-get install {name}`",
        )
        for name, why in tools.items()
    ]


def model_checks(store: ModelStore) -> list[Check]:
    """Each card: present in the store and every checksum matching."""
    checks = []
    for name in sorted(store.cards()):
        status = store.status(name)
        state: State = "ok" if status.verified else ("failed" if status.present else "missing")
        checks.append(
            Check("models", name, state, status.path if status.verified else status.detail)
        )
    return checks


def diagnose(store: ModelStore | None = None) -> list[Check]:
    """The full report."""
    return runtime_checks() + tool_checks() + model_checks(store or ModelStore())


def target_checks(profile, engines: Path | None = None) -> list[Check]:
    """What an export target (:class:`~perception.export.profiles.ExportProfile`) needs, held
    against this machine; with ``engines``, each engine's manifest checked here."""
    from perception.export.tensorrt import machine_here

    here = machine_here()
    group = f"target:{profile.name}"
    checks = [Check(group, "profile", "info", profile.description)]
    if profile.runtime == "tensorrt":
        checks += _tensorrt_target(group, profile, here)
    providers = _ort_providers()
    gpu_eps = [p for p in providers if p in ("TensorrtExecutionProvider", "CUDAExecutionProvider")]
    if profile.runtime == "tensorrt" and not gpu_eps:
        checks.append(Check(group, "onnxruntime GPU", "missing",
                            "only CPU providers here; on the target `pip install -e '.[gpu]'` "
                            "(onnxruntime-gpu) for runtime: onnxruntime on the GPU"))  # fmt: skip
    else:
        checks.append(Check(group, "onnxruntime", "ok", ", ".join(providers)))
    if engines is not None:
        checks += engine_checks(engines, here)
    return checks


def _ort_providers() -> list[str]:
    try:
        import onnxruntime
    except ImportError:
        return []
    return list(onnxruntime.get_available_providers())


def _tensorrt_target(group: str, profile, here) -> list[Check]:
    span = f"TensorRT {profile.tensorrt.min} to {profile.tensorrt.max}"
    if not here.tensorrt:
        detail = (
            f"needs {span}; not importable here, so engines are built on the target "
            "(JetPack 6.0 has 8.6, 6.1/6.2 have 10.3; or run build_engines.sh)"
        )
        trt = Check(group, "tensorrt", "missing", detail)
    elif profile.tensorrt.contains(here.tensorrt):
        trt = Check(group, "tensorrt", "ok", f"{here.tensorrt} (needs {span})")
    else:
        trt = Check(group, "tensorrt", "failed", f"{here.tensorrt} here; needs {span}")
    want = f"{profile.gpu_name} {profile.compute_capability}"
    if not here.compute_capability:
        gpu = Check(group, "gpu", "missing", f"needs {want}; torch sees no CUDA GPU here")
    elif here.compute_capability == profile.compute_capability:
        gpu = Check(group, "gpu", "ok", f"{here.gpu_name} {here.compute_capability}")
    else:
        gpu = Check(group, "gpu", "failed",
                    f"{here.gpu_name} {here.compute_capability} here; engines for this target "
                    f"need {want}")  # fmt: skip
    extra = [f"workspace {profile.workspace_mib} MiB"]
    if profile.dla_core >= 0:
        extra.append(f"DLA core {profile.dla_core} with GPU fallback for the detector")
    return [trt, gpu, Check(group, "builder", "info", ", ".join(extra))]


def engine_checks(folder: Path, here) -> list[Check]:
    """Each ``*.engine`` in ``folder`` against this machine, by its manifest."""
    from perception.errors import PerceptionError
    from perception.export.manifest import check_engine, read_manifest

    checks = []
    for engine in sorted(folder.glob("*.engine")):
        try:
            check_engine(read_manifest(engine), here)
        except PerceptionError as exc:
            checks.append(Check("engines", engine.name, "failed", str(exc)))
            continue
        checks.append(Check("engines", engine.name, "ok", "built for this GPU and TensorRT"))
    if not checks:
        checks.append(Check("engines", str(folder), "missing", "no *.engine files there"))
    return checks
