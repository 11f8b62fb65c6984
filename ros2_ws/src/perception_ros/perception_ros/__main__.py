"""``python -m perception_ros EXEC [--ros-args ...]``: the node executables without a ROS install.

`perception launch` starts nodes this way; on a full install `ros2 run perception_ros EXEC`
runs the same ``main`` through the console scripts of setup.py.
"""

import importlib
import sys

NODES = (
    "text_detector",
    "speech",
    "wav_source",
    "image_folder_source",
    "camera_source",
    "microphone_source",
    "bag_player",
    "llm_service",
)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in NODES:
        print(
            f"usage: python -m perception_ros {{{','.join(NODES)}}} [--ros-args ...]",
            file=sys.stderr,
        )
        return 2
    name = sys.argv.pop(1)
    return int(importlib.import_module(f"perception_ros.{name}").main() or 0)


if __name__ == "__main__":
    sys.exit(main())
