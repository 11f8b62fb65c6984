#!/usr/bin/env bash
# One GPU session for vision, run through the device tool from the repository root:
#   1. bench/gpu_vision.py: CUDA vs CPU parity, fp16, region-scoring throughput, episode time;
#   2. the configs/vision/gpu.yaml training run, MENTOR capped at BUDGET_S seconds (default 360),
#      from the carried data cache build/vision/gpu-data.npz (the GPU machine has no fonts; make
#      it here with `perception vision data --config configs/vision/gpu.yaml`).
# Needs only the machine's python3 with torch, numpy, opencv, pillow, pyyaml and tqdm.
# Writes gpu_vision.txt, train_gpu.log and the checkpoint with its card to $OUT.
set -euo pipefail
export PYTHONPATH="$PWD"
OUT="${OUT:-build/device}"
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu_vision.txt"
[ -n "${SKIP_BENCH:-}" ] || python3 bench/gpu_vision.py 2>&1 | tee -a "$OUT/gpu_vision.txt"
python3 - <<PY 2>&1 | tee "$OUT/train_gpu.log"
import dataclasses
from perception.config import load_yaml
from perception.vision.train import TrainConfig, train
cfg = load_yaml(TrainConfig, "configs/vision/gpu.yaml")
train(dataclasses.replace(cfg, time_budget_s=float("${BUDGET_S:-360}")))
PY
cp perception/vision/weights/mentor-gpu.pt perception/vision/weights/mentor-gpu.yaml "$OUT/"
