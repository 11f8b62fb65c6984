#!/usr/bin/env bash
# One GPU session for issue 14 (edge export), run through the device tool from the repository
# root: bench/gpu_export.py with torch CUDA fp32/fp16 and onnxruntime. The device machine has
# torch, onnx and onnxruntime but no TensorRT, no model store and no onnx2torch; prepare here:
#   .venv/bin/pip download --no-deps -d build/wheels onnx2torch onnxslim
#   mkdir -p build/home/models && cp -r ~/.cache/perception/models/ppocr-v4-det \
#       ~/.cache/perception/models/ppocr-v4-rec build/home/models/
# then run with carry ["build/wheels", "build/home"] (about 16 MB). Whisper runs with seeded
# random weights of the tiny.en architecture there (its checkpoint is over the 64 MiB carry).
# Writes gpu_export.json to $OUT; copy it to bench/results/gpu_export_<gpu>.json.
set -euo pipefail
export PYTHONPATH="$PWD" PERCEPTION_HOME="$PWD/build/home"
OUT="${OUT:-build/device}"
mkdir -p "$OUT"
python3 -m pip install --no-index --no-deps -q build/wheels/*.whl
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu_export.txt"
python3 bench/gpu_export.py --device cuda --out "$OUT" 2>&1 | tee -a "$OUT/gpu_export.txt"
