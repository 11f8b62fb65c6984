#!/usr/bin/env bash
# Build ros2_ws/src/perception_msgs with the pip-installed rosidl tools and install it into the
# virtual environment, so that `import perception_msgs.msg` works with nothing to source.
# Idempotent: skipped (well under a second) when the installed build matches the interface files.
# Recipe and the CMake hook: ROS2_NOTES.md ("Custom messages build with pip-installed tools").
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-$PWD/.venv}
PY="$VENV/bin/python"
PKG=ros2_ws/src/perception_msgs
BUILD=ros2_ws/build/perception_msgs
STAMP="$VENV/share/perception_msgs/.source_sha256"

digest=$(cat "$PKG/CMakeLists.txt" "$PKG/package.xml" "$PKG"/msg/*.msg "$PKG"/srv/*.srv \
  "$PKG"/action/*.action | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$digest" ] \
  && "$PY" -c "import perception_msgs.msg, perception_msgs.srv, perception_msgs.action" 2>/dev/null; then
  echo "build_ros_msgs: perception_msgs is up to date in $VENV"
  exit 0
fi

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

mkdir -p "$BUILD"
echo "build_ros_msgs: building perception_msgs into $VENV (about 20-60 s)"
export PATH="$VENV/bin:$PATH" CMAKE_PREFIX_PATH="$VENV" AMENT_PREFIX_PATH="$VENV"
cmake -S "$PKG" -B "$BUILD" -DCMAKE_INSTALL_PREFIX="$VENV" -DPython3_EXECUTABLE="$PY" \
  -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PROJECT_INCLUDE="$PWD/scripts/cmake/pypi_ros_fix.cmake" >"$BUILD.log" 2>&1 \
  || { tail -40 "$BUILD.log" >&2; exit 1; }
cmake --build "$BUILD" -j "$(nproc)" >>"$BUILD.log" 2>&1 || { tail -40 "$BUILD.log" >&2; exit 1; }
cmake --install "$BUILD" >>"$BUILD.log" 2>&1 || { tail -40 "$BUILD.log" >&2; exit 1; }
"$PY" -c "import perception_msgs.msg, perception_msgs.srv, perception_msgs.action" || {
  echo "build_ros_msgs: installed, but python cannot import perception_msgs; see $BUILD.log" >&2
  exit 1
}
echo "$digest" >"$STAMP"
echo "build_ros_msgs: done"
