#!/usr/bin/env bash
# Build the interface packages in ros2_ws/src (perception_msgs; audio_common_msgs, mgonzs13's
# audio messages that whisper_ros and audio_common's capture node publish) with the pip-installed
# rosidl tools and install them into the virtual environment, so that `import perception_msgs.msg`
# and `import audio_common_msgs.msg` work with nothing to source.
# Idempotent: a package is skipped (well under a second) when its installed build matches its
# interface files.
# Recipe and the CMake hook: ROS2_NOTES.md ("Custom messages build with pip-installed tools").
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
VENV=${VENV:-$PWD/.venv}
PY="$VENV/bin/python"

need_tools() {
  for tool in cmake g++; do
    command -v "$tool" >/dev/null || { echo "build_ros_msgs: $tool is missing (apt-get install $tool)" >&2; exit 1; }
  done
  "$PY" -c "import rosidl_adapter, ament_package" 2>/dev/null || {
    echo "build_ros_msgs: the rosidl build tools are missing from $VENV; install them with" >&2
    echo "  $PY -m pip install ros-kilted-rosidl-default-generators ros-kilted-ament-cmake \\" >&2
    echo "    ros-kilted-rosidl-core-generators ros-kilted-ament-package \\" >&2
    echo "    ros-kilted-ament-cmake-include-directories ros-kilted-ament-cmake-ros-core" >&2
    exit 1
  }
}

# build_one NAME IMPORTS: build ros2_ws/src/NAME unless its stamp matches; IMPORTS is the Python
# statement that must work afterwards
build_one() {
  local name=$1 imports=$2
  local pkg=ros2_ws/src/$name build=ros2_ws/build/$name stamp="$VENV/share/$name/.source_sha256"
  local digest
  digest=$(cat "$pkg/CMakeLists.txt" "$pkg/package.xml" "$pkg"/msg/*.msg "$pkg"/srv/*.srv \
    "$pkg"/action/*.action | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ] && "$PY" -c "$imports" 2>/dev/null; then
    echo "build_ros_msgs: $name is up to date in $VENV"
    return 0
  fi
  need_tools
  mkdir -p "$build"
  echo "build_ros_msgs: building $name into $VENV (about 20-60 s)"
  cmake -S "$pkg" -B "$build" -DCMAKE_INSTALL_PREFIX="$VENV" -DPython3_EXECUTABLE="$PY" \
    -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PROJECT_INCLUDE="$PWD/scripts/cmake/pypi_ros_fix.cmake" >"$build.log" 2>&1 \
    || { tail -40 "$build.log" >&2; exit 1; }
  cmake --build "$build" -j "$(nproc)" >>"$build.log" 2>&1 || { tail -40 "$build.log" >&2; exit 1; }
  cmake --install "$build" >>"$build.log" 2>&1 || { tail -40 "$build.log" >&2; exit 1; }
  "$PY" -c "$imports" || {
    echo "build_ros_msgs: installed, but python cannot import $name; see $build.log" >&2
    exit 1
  }
  echo "$digest" >"$stamp"
  echo "build_ros_msgs: $name done"
}

export PATH="$VENV/bin:$PATH" CMAKE_PREFIX_PATH="$VENV" AMENT_PREFIX_PATH="$VENV"
build_one perception_msgs "import perception_msgs.msg, perception_msgs.srv, perception_msgs.action"
build_one audio_common_msgs "import audio_common_msgs.msg"
