"""GPU check for the vision capability (needs only torch, numpy and this repository's
``perception/vision/mentor.py``, which imports torch alone).

Prints, on CUDA: (1) Text Finder throughput at 640x480 (features 96 x 120 x 160) for 26
languages, batch 1 and 8, fp32 and fp16 autocast; (2) one meta-training episode's time at the GPU
config's sizes, to size `configs/vision/gpu.yaml`; (3) parity of the Text Finder on CUDA vs CPU.
If the bundled checkpoint perception/vision/weights/mentor-small.pt is present it is loaded,
else random weights are used (timings do not depend on the weights).

    python bench/gpu_vision.py
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from perception.vision.mentor import Mentor, MentorConfig

CKPT = Path(__file__).resolve().parents[1] / "perception/vision/weights/mentor-small.pt"


def timed(fn, repeats: int = 20) -> float:
    fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / repeats


def small_mentor() -> Mentor:
    if CKPT.is_file():
        payload = torch.load(CKPT, map_location="cpu", weights_only=True)
        mentor = Mentor(MentorConfig(**payload["mentor_config"]))
        mentor.load_state_dict(payload["mentor"])
        print(f"loaded {CKPT.name}")
        return mentor.eval()
    print("bundled checkpoint absent: random weights")
    return Mentor(MentorConfig()).eval()


def main() -> None:
    assert torch.cuda.is_available(), "needs a CUDA device"
    print(torch.cuda.get_device_name(0), "torch", torch.__version__)
    mentor = small_mentor()
    templates = [
        (torch.randn(8, 96, 16, 48), torch.randn(8, 3, 64, 192), torch.ones(8, 1, 16, 48))
        for _ in range(26)
    ]
    with torch.no_grad():
        kernels = mentor.kernels(templates)
        feats, image = torch.randn(1, 96, 120, 160), torch.randn(1, 3, 480, 640)
        ref = mentor.maps(feats, image, kernels)
    gpu = mentor.cuda()
    with torch.no_grad():
        got = gpu.maps(feats.cuda(), image.cuda(), kernels.cuda()).cpu()
    print(f"parity CUDA vs CPU: max abs diff {float((got - ref).abs().max()):.2e}")
    for batch in (1, 8):
        x = torch.randn(batch, 96, 120, 160, device="cuda")
        im = torch.randn(batch, 3, 480, 640, device="cuda")
        k = kernels.cuda()
        with torch.no_grad():
            s32 = timed(lambda x=x, im=im, k=k: gpu.maps(x, im, k))
            with torch.autocast("cuda", torch.float16):
                s16 = timed(lambda x=x, im=im, k=k: gpu.maps(x, im, k))
        print(
            f"Text Finder, 26 languages, batch {batch}: fp32 {batch / s32:8.1f} img/s, "
            f"fp16 {batch / s16:8.1f} img/s"
        )
    big = Mentor(MentorConfig(finder_channels=64, dynamic_hidden=32, code_dim=256)).cuda().train()
    opt = torch.optim.AdamW(big.parameters(), 1e-3)
    x = torch.randn(12, 96, 96, 96, device="cuda")
    im = torch.randn(12, 3, 384, 384, device="cuda")
    tpl = [
        (
            torch.randn(16, 96, 16, 48, device="cuda"),
            torch.randn(16, 3, 64, 192, device="cuda"),
            torch.ones(16, 1, 16, 48, device="cuda"),
        )
        for _ in range(12)
    ]

    def step() -> None:
        loss = big(x, im, tpl).float().sigmoid().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    s = timed(step, 10)
    print(
        f"GPU-config episode (12 languages, 96x96 cells): {s * 1e3:.1f} ms/step, "
        f"30000 steps ~ {30000 * s / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
