"""Nodes killed during a launch: the launcher notices, stops the rest of the graph and exits 1
naming the dead node and its signal."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

from perception.ros.launch_file import LaunchPlan, NodeSpec
from perception.ros.launcher import Launcher

pytestmark = [pytest.mark.faults, pytest.mark.ros]

IMAGES = Path(__file__).resolve().parents[2] / "launch" / "sample_images"


def _camera(name: str) -> NodeSpec:
    return NodeSpec("perception_ros", "image_folder_source", name, params=(("path", str(IMAGES)),))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT])
def test_a_node_killed_mid_launch_stops_the_graph_with_exit_1(ros_env, ledger, sig):
    lines: list[str] = []
    plan = LaunchPlan(Path("<test>"), {}, (_camera("camera"), _camera("victim")))
    launcher = Launcher(plan, out=lines.append)
    launcher.start()
    try:
        time.sleep(3.0)  # both running
        assert all(p.poll() is None for p in launcher.procs.values()), lines
        launcher.procs["victim"].send_signal(sig)
        result: list[int] = []
        waiter = threading.Thread(target=lambda: result.append(launcher.wait(30.0)))
        waiter.start()
        waiter.join(60.0)
    finally:
        launcher.stop()
    assert result == [1], lines
    assert f"[launch] node(s) died: {{'victim': {-int(sig)}}}; shutting down the graph" in lines
    assert launcher.procs["camera"].poll() is not None  # the rest of the graph was stopped
    ledger.tried("launch (node killed)", "counted")
