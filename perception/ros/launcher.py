"""Runs a :class:`~perception.ros.launch_file.LaunchPlan`: one child process per node.

Owns the process side of ``perception launch``: the command line of each node (``python -m
perception_ros EXEC --ros-args ...``, the same executables ``ros2 launch`` starts on a full
install), the safe ROS environment, prefixed output, and shutdown: on Ctrl-C / SIGTERM, when a
node exits with an error, when a node marked ``on_exit: shutdown`` exits, or after
``duration_s``, every node gets SIGINT, then SIGTERM, then SIGKILL if it does not stop.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from perception.ros.env import NETWORK_VARIABLES, discovery_notice, safe_ros_env
from perception.ros.launch_file import LaunchPlan, NodeSpec

STOP_GRACE_S = 5.0  # after SIGINT, before SIGTERM (nodes free models in cleanup)


def node_command(node: NodeSpec, params_dir: Path) -> list[str]:
    """The argv of one node; inline parameters go through a generated parameter file."""
    cmd = [sys.executable, "-m", node.pkg, node.exec, "--ros-args", "-r", f"__node:={node.name}"]
    if node.namespace:
        cmd += ["-r", f"__ns:={'/' + node.namespace.lstrip('/')}"]
    for f in node.param_files:
        cmd += ["--params-file", str(f)]
    # null and [] cannot be typed as ROS parameters (a node given one exits): leave them unset
    params = {k: v for k, v in node.params if v is not None and v != []}
    if params:
        path = params_dir / f"{node.name}.yaml"
        # typed values (YAML), "/**" so the file applies whatever the namespace
        path.write_text(yaml.safe_dump({"/**": {"ros__parameters": params}}))
        cmd += ["--params-file", str(path)]
    for src, dst in node.remaps:
        cmd += ["-r", f"{src}:={dst}"]
    return cmd + list(node.ros_args)


def _pump(name: str, stream, out: Callable[[str], None]) -> None:
    for line in iter(stream.readline, ""):
        out(f"[{name}] {line.rstrip()}")


class Launcher:
    """Starts the plan's nodes and stops them all together."""

    def __init__(self, plan: LaunchPlan, out: Callable[[str], None] = print) -> None:
        self.plan, self.out = plan, out
        self.procs: dict[str, subprocess.Popen] = {}
        self._stop = threading.Event()
        self._tmp = tempfile.TemporaryDirectory(prefix="perception-launch-")

    def start(self) -> None:
        env = safe_ros_env()
        self._announce_network(env)
        for node in self.plan.nodes:
            cmd = node_command(node, Path(self._tmp.name))
            proc = subprocess.Popen(
                cmd,
                env={**env, **dict(node.env)},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            self.procs[node.name] = proc
            threading.Thread(
                target=_pump, args=(node.name, proc.stdout, self.out), daemon=True
            ).start()
            self.out(f"[launch] started {node.name} (pid {proc.pid}): {' '.join(cmd[2:])}")

    def _announce_network(self, env: dict[str, str]) -> None:
        """Say so when discovery may leave this machine (the graph's or one node's env)."""
        notice = discovery_notice(env)
        if notice:
            self.out(f"[launch] {notice}")
        for node in self.plan.nodes:
            if NETWORK_VARIABLES & set(dict(node.env)):  # the launch file sets its own
                own = discovery_notice({**env, **dict(node.env)}, node.name)
                if own:
                    self.out(f"[launch] {own}")

    def request_stop(self, *_: object) -> None:
        self._stop.set()

    def wait(self, duration_s: float | None = None) -> int:
        """Block until a stop condition; then stop every node. Returns the exit code."""
        deadline = None if duration_s is None else time.monotonic() + duration_s
        code, specs = 0, {n.name: n for n in self.plan.nodes}
        while not self._stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                self.out(f"[launch] duration {duration_s} s reached")
                break
            exited = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
            failed = {n: rc for n, rc in exited.items() if rc != 0}
            if failed:
                self.out(f"[launch] node(s) died: {failed}; shutting down the graph")
                code = 1
                break
            if any(specs[n].on_exit_shutdown for n in exited):
                self.out(f"[launch] {sorted(exited)} exited (on_exit: shutdown)")
                break
            if len(exited) == len(self.procs):
                break
            self._stop.wait(0.2)
        return max(code, self.stop())

    def stop(self) -> int:
        """SIGINT, then SIGTERM, then SIGKILL; returns 1 if any node needed more than SIGINT."""
        forced = 0
        for sig, grace_s in (
            (signal.SIGINT, STOP_GRACE_S),
            (signal.SIGTERM, 2.0),
            (signal.SIGKILL, 2.0),
        ):
            alive = [p for p in self.procs.values() if p.poll() is None]
            if not alive:
                break
            forced += sig != signal.SIGINT
            for p in alive:
                p.send_signal(sig)
            end = time.monotonic() + grace_s
            while time.monotonic() < end and any(p.poll() is None for p in alive):
                time.sleep(0.05)
        for name, p in self.procs.items():
            self.out(f"[launch] {name} exited with {p.returncode}")
        self._tmp.cleanup()
        return 1 if forced else 0


def run_plan(
    plan: LaunchPlan, duration_s: float | None = None, out: Callable[[str], None] = print
) -> int:
    """Start, wait (Ctrl-C or SIGTERM stops), stop. Returns 0 on a clean shutdown."""
    launcher = Launcher(plan, out)
    previous = {
        s: signal.signal(s, launcher.request_stop) for s in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        launcher.start()
        return launcher.wait(duration_s)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
