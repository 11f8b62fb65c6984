"""Safe ROS 2 networking defaults for every process the project starts.

Owns the environment variables: discovery stays on this machine
(``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``) and Fast DDS uses the project's profile (a shared-
memory segment large enough for camera frames, UDP on loopback only), unless the user already
chose otherwise. It does not know which nodes run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FASTDDS_PROFILE = REPO_ROOT / "config" / "fastdds_profile.xml"


def safe_ros_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default: ``os.environ``) with the safe defaults filled in.

    Variables the user set are kept: a user who exports ``ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET``
    gets the subnet.
    """
    env = dict(os.environ if base is None else base)
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    if FASTDDS_PROFILE.is_file():
        env.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(FASTDDS_PROFILE))
    return env


def apply_safe_ros_env() -> None:
    """Fill in the defaults in this process's environment (call before ``rclpy.init``)."""
    for key, value in safe_ros_env().items():
        os.environ.setdefault(key, value)
