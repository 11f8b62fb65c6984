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

from perception.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
FASTDDS_PROFILE = REPO_ROOT / "config" / "fastdds_profile.xml"
# ROS 2 (Jazzy and later) discovery ranges; anything wider than LOCALHOST leaves the machine
DISCOVERY_RANGES = ("LOCALHOST", "SUBNET", "OFF", "SYSTEM_DEFAULT")
NETWORK_VARIABLES = {
    "ROS_AUTOMATIC_DISCOVERY_RANGE",
    "ROS_STATIC_PEERS",
    "FASTDDS_DEFAULT_PROFILES_FILE",
}


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


def discovery_notice(env: Mapping[str, str], who: str = "") -> str:
    """One line when ``env`` lets discovery leave this machine ("" when it stays local).

    Widening is the user's choice (an exported variable, a launch file's ``env``), never ours,
    and it is never silent: the launcher prints this line for the graph and for each node.

    Raises:
        ConfigError: an unknown ``ROS_AUTOMATIC_DISCOVERY_RANGE`` (ROS would fall back to a
            default the user did not choose).
    """
    where = f" for {who}" if who else ""
    value = env.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST").strip().upper()
    if value not in DISCOVERY_RANGES:
        raise ConfigError(
            f"ROS_AUTOMATIC_DISCOVERY_RANGE{where} is {value!r}; expected one of "
            f"{', '.join(DISCOVERY_RANGES)} (LOCALHOST keeps the graph on this machine)"
        )
    wider = []
    if value in ("SUBNET", "SYSTEM_DEFAULT"):
        wider.append(f"ROS_AUTOMATIC_DISCOVERY_RANGE={value}")
    if env.get("ROS_STATIC_PEERS", "").strip():
        wider.append(f"ROS_STATIC_PEERS={env['ROS_STATIC_PEERS'].strip()}")
    profile = env.get("FASTDDS_DEFAULT_PROFILES_FILE", str(FASTDDS_PROFILE))
    if Path(profile) != FASTDDS_PROFILE:
        wider.append(f"a Fast DDS profile of your own ({profile}) decides the transports")
    if not wider:
        return ""
    return (
        f"discovery{where} may reach beyond this machine: {'; '.join(wider)} (set by you); "
        "unset them to keep the graph on localhost, or secure it with SROS2 (README)"
    )
