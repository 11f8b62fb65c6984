"""Edge-export GPU check: torch CUDA (fp32, fp16) and onnxruntime (whatever providers it has)
on one GPU machine, for the two latency goals of issue 14.

    python bench/gpu_export.py [--device cuda] [--frames 60] [--commands 10] [--out DIR]

speech: ms per spoken command (the bundled 3.6 s command: encoder + beam search 5, at most 24
    tokens) with Whisper tiny.en from the store when present, else its architecture with seeded
    random weights (the device machine carries 64 MiB, less than the checkpoint; the timing is
    the architecture's, the text is then meaningless and not reported). Goal: < 100 ms.
vision: camera frames/s at 640x480 through the PP-OCRv4 detector and the language step (8 line
    crops through the recogniser backbone + MENTOR's Text Finder with 27 kernels, seeded random
    MENTOR weights). Goal: >= 30 frames/s.
Prints and writes one JSON object (``gpu_export.json`` in --out). Never fails on a time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from gpu_speech import TINY_EN  # bench/ is on the path when run as a script

from perception.models.store import ModelStore
from perception.runtime import ort_session

REPO = Path(__file__).resolve().parents[1]


def _ms(fn, repeats: int) -> float:
    fn()  # warm-up
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return round((time.perf_counter() - t0) / repeats * 1e3, 2)


def whisper_model(store: ModelStore):
    from whisper.model import ModelDimensions, Whisper

    from perception.speech.whisper_backend import load_whisper, model_path

    try:
        return load_whisper(model_path("whisper-tiny.en", store)), "whisper-tiny.en"
    except Exception:  # noqa: BLE001 -- no store on the device machine: the architecture only
        torch.manual_seed(0)
        model = Whisper(ModelDimensions(**TINY_EN))
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(0.05 * torch.randn_like(p))
        return model.eval(), "tiny.en architecture, seeded random weights"


def speech(device: str, commands: int, store: ModelStore, folder: Path) -> dict:
    from perception.audio import load_audio
    from perception.speech.acoustic import AcousticModel
    from perception.speech.whisper_onnx import OnnxWhisper, dims_of, write_whisper

    model, weights = whisper_model(store)
    audio = load_audio(REPO / "perception" / "data" / "robot_command.wav")
    checkpoint = folder / "w.pt"
    torch.save({"dims": model.dims.__dict__}, checkpoint)  # only names the export's source
    write_whisper(model, checkpoint, folder)
    onnx = OnnxWhisper(folder, dims_of(model), device)
    out = {"weights": weights, "onnxruntime_providers": list(onnx.providers)}
    runs = {
        f"torch_{device}_fp32": AcousticModel(model.to(device)),
        f"onnxruntime_{onnx.providers[0]}": AcousticModel(model.to(device), onnx=onnx),
    }
    if device != "cpu":  # openai-whisper's fp16: half inputs, fp32 layer norms
        runs[f"torch_{device}_fp16"] = AcousticModel(model.to(device), fp16=True)
    for name, am in runs.items():
        out[f"{name}_ms_per_command"] = _ms(
            lambda am=am: am.beam_search(am.encode(audio), 5, 24), commands
        )
    return out


def vision(device: str, frames: int, store: ModelStore) -> dict:
    from perception.vision import ppocr
    from perception.vision.mentor import Mentor, MentorConfig
    from perception.vision.recognizer import MODEL_NAME, line_batch, pool, recogniser_graph

    det_path = store.resolve("ppocr-v4-det")
    half = device != "cpu"
    detector = ppocr.to_torch(det_path, with_features=False).to(device).eval()
    import onnx2torch

    backbone = onnx2torch.convert(recogniser_graph(store.resolve(MODEL_NAME), False)).to(device)
    torch.manual_seed(0)
    mentor = Mentor(MentorConfig()).to(device).eval()
    kernels = torch.nn.functional.normalize(torch.randn(27, mentor.cfg.embed_dim), dim=-1)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    crops = [rng.integers(0, 255, (32, w, 3), dtype=np.uint8) for w in (60, 90, 120, 160) * 2]
    x = torch.from_numpy(ppocr.prepare(image, 0, 0).tensor).to(device)
    batch = line_batch(crops)
    lines = torch.from_numpy(batch.x).to(device)
    det_ort = ort_session(ppocr.load_graph(det_path, False).SerializeToString(), device)

    def frame(dtype):
        with torch.no_grad(), torch.autocast(device.split(":")[0], dtype, enabled=half):
            detector(x)
            feats = pool(backbone(lines).float(), batch.steps)
            mentor(feats, kernels.to(device))

    out = {"onnxruntime_providers": list(det_ort.providers)}
    for name, dtype in (("fp32", torch.float32), ("fp16", torch.float16)):
        if name == "fp16" and not half:
            continue
        ms = _ms(lambda dtype=dtype: frame(dtype), frames)
        out[f"torch_{device}_{name}_frames_per_s"] = round(1e3 / ms, 1)
    det_ms = _ms(lambda: det_ort.session.run(None, {"x": x.cpu().numpy()}), frames)
    out[f"onnxruntime_{det_ort.providers[0]}_detector_only_frames_per_s"] = round(1e3 / det_ms, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--commands", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("build/device"))
    args = parser.parse_args()
    name = torch.cuda.get_device_name(0) if args.device != "cpu" else "cpu"
    store = ModelStore()
    with tempfile.TemporaryDirectory() as tmp:
        result = {
            "device": name,
            "torch": torch.__version__,
            "speech": speech(args.device, args.commands, store, Path(tmp)),
            "vision": vision(args.device, args.frames, store),
        }
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=1)
    (args.out / "gpu_export.json").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
