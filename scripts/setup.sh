#!/usr/bin/env bash
# Set up this checkout on a fresh Debian/Ubuntu machine: system packages, a virtual environment
# in .venv with the project and its CPU extras, and every model card fetched into the store.
# Safe to run again: each step is skipped or quick when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(espeak-ng flite sox libsox-fmt-all ffmpeg fonts-noto-core fonts-noto-cjk libraqm0 cmake g++
  fortunes wordnet-base)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "setup: installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
echo "setup: installing the project with extras llm, ros, dev, ray (torch is about 4.7 GB the first time)"
.venv/bin/python -m pip install -q -e '.[llm,ros,dev,ray]'
# the reference PP-OCRv4 pipeline for parity tests, without its dependencies (see pyproject.toml)
.venv/bin/python -m pip install -q --no-deps rapidocr-onnxruntime==1.4.4
# MTCNN for real camera faces (AVSR), likewise without its dependencies (see pyproject.toml)
.venv/bin/python -m pip install -q --no-deps facenet-pytorch==2.6.0
echo "setup: building the ROS 2 interfaces (perception_msgs, audio_common_msgs) into .venv"
bash scripts/build_ros_msgs.sh
.venv/bin/python -m pip install -q -e ros2_ws/src/perception_ros
echo "setup: fetching models into ${PERCEPTION_HOME:-$HOME/.cache/perception}"
.venv/bin/perception models fetch
echo "setup: exporting Whisper's onnxruntime graphs (the CPU runtime) into the store"
.venv/bin/perception transcribe perception/data/robot_command.wav > /dev/null
