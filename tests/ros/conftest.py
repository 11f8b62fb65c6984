"""ROS test isolation: every test gets its own domain, localhost discovery, the Fast DDS profile
and a temporary log folder; helpers to start node processes and to wait on topics."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perception.ros.env import FASTDDS_PROFILE

_DOMAINS = itertools.count()


@pytest.fixture
def ros_env(tmp_path, monkeypatch) -> dict[str, str]:
    """Environment of this test and of the processes it starts (also set in os.environ)."""
    pytest.importorskip("rclpy", reason="the ros extra is not installed")
    pytest.importorskip("perception_msgs.msg", reason="run scripts/build_ros_msgs.sh first")
    domain = 100 + (os.getpid() * 7 + next(_DOMAINS)) % 100  # distinct per run and per test
    values = {
        "ROS_DOMAIN_ID": str(domain),
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
        "ROS_LOG_DIR": str(tmp_path / "ros_log"),
        "FASTDDS_DEFAULT_PROFILES_FILE": str(FASTDDS_PROFILE),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return dict(os.environ)


@pytest.fixture
def probe(ros_env):
    """An rclpy node in its own context on the test's domain; shut down after the test."""
    import rclpy

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(ros_env["ROS_DOMAIN_ID"]))
    node = rclpy.create_node("test_probe", context=context)
    yield node
    node.destroy_node()
    context.try_shutdown()


def spin_until(node, condition, timeout_s: float) -> bool:
    import rclpy

    end = time.monotonic() + timeout_s
    executor = rclpy.executors.SingleThreadedExecutor(context=node.context)
    executor.add_node(node)
    try:
        while time.monotonic() < end:
            if condition():
                return True
            executor.spin_once(timeout_sec=0.05)
        return condition()
    finally:
        executor.remove_node(node)


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A child process (its own session, output to ``log``)."""
    return subprocess.Popen(
        [sys.executable, *args],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen, timeout_s: float = 15.0) -> int:
    """SIGINT, as Ctrl-C would; SIGKILL (and a failing return) only if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return -999
