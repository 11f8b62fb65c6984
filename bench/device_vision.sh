#!/usr/bin/env bash
# One GPU session for vision, run through the device tool from the repository root: runs
# bench/gpu_vision.py (CUDA vs CPU parity, fp16, region-scoring throughput). MENTOR trains over
# cached recogniser features in seconds on a CPU, so no training runs here any more.
# The GPU machine lacks onnx and onnx2torch and has no model store; prepare both here and carry
# them (paths relative to the repository root):
#   .venv/bin/pip download --no-deps -d build/wheels onnx onnx2torch
#   mkdir -p build/home/models && cp -r ~/.cache/perception/models/ppocr-v4-rec build/home/models/
# then run with carry ["build/wheels", "build/home"]. Writes gpu_vision.txt to $OUT.
set -euo pipefail
export PYTHONPATH="$PWD" PERCEPTION_HOME="$PWD/build/home"
OUT="${OUT:-build/device}"
mkdir -p "$OUT"
python3 -m pip install --no-index --no-deps -q build/wheels/*.whl
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu_vision.txt"
python3 bench/gpu_vision.py 2>&1 | tee -a "$OUT/gpu_vision.txt"
