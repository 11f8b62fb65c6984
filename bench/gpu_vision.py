"""GPU check for the vision capability (needs torch, numpy, pyyaml, onnx, onnx2torch,
onnxruntime, the PP-OCRv4 recogniser in the model store and this repository).

Prints, on CUDA: (1) parity of region scoring (recogniser backbone through onnx2torch, then
MENTOR) on CUDA vs the onnxruntime CPU path, fp32 and fp16 autocast; (2) region scoring
throughput (crops per second, line crops prepared on the CPU) against 26 languages' kernels,
fp32 and fp16. Uses the default bundled checkpoint. Reading (CTC) stays on onnxruntime.

    python bench/gpu_vision.py
"""

from __future__ import annotations

import time

import numpy as np
import torch

from perception.vision import weights
from perception.vision.recognizer import LineRecognizer

LANGUAGES = 26


def timed(fn, repeats: int = 20) -> float:
    fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / repeats


def crops(n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` random line crops (48 x 160 RGB, dark strokes on light)."""
    rng = np.random.default_rng(1000 * seed + n)
    return [np.where(rng.random((48, 160, 3)) > 0.7, 20, 230).astype(np.uint8) for _ in range(n)]


def main() -> None:
    assert torch.cuda.is_available(), "needs a CUDA device"
    print(torch.cuda.get_device_name(0), "torch", torch.__version__)
    mentor = weights.load().mentor
    cpu_features = LineRecognizer(runtime="onnxruntime").embed
    gpu_features = LineRecognizer(runtime="torch", device="cuda").embed
    templates = [crops(8, seed=i + 1) for i in range(LANGUAGES)]
    x = crops(64)
    with torch.no_grad():
        ref = mentor(cpu_features(x), mentor.kernels([cpu_features(t) for t in templates]))
        gpu = mentor.cuda()
        k_gpu = gpu.kernels([gpu_features(t) for t in templates])
        got = gpu(gpu_features(x), k_gpu).cpu()
        with torch.autocast("cuda", torch.float16):
            half = gpu(gpu_features(x), k_gpu).float().cpu()
    print(f"parity CUDA vs CPU (logits): max abs diff {float((got - ref).abs().max()):.2e}")
    print(f"parity fp16 autocast vs CPU fp32: max abs diff {float((half - ref).abs().max()):.2e}")
    same = float((half.argmax(1) == ref.argmax(1)).float().mean())
    print(f"fp16 arg-max agreement with fp32: {same:.3f}")
    for batch in (16, 256):
        xb = crops(batch)
        with torch.no_grad():
            s32 = timed(lambda xb=xb: gpu(gpu_features(xb), k_gpu))
            with torch.autocast("cuda", torch.float16):
                s16 = timed(lambda xb=xb: gpu(gpu_features(xb), k_gpu))
        print(
            f"region scoring, {LANGUAGES} languages, {batch} crops: fp32 {batch / s32:9.0f} "
            f"crops/s, fp16 {batch / s16:9.0f} crops/s"
        )


if __name__ == "__main__":
    main()
