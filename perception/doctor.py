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
