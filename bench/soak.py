"""Soak: camera frames at 30 Hz and audio in real time through the live nodes for a bounded time;
every message accounted for, and each node's memory over time (RSS slope).

    python bench/soak.py [--seconds 180] [--out bench/results/soak_2cores.json]

Starts the text detector (PP-OCRv4 regions, no reading) and the speech node as processes on the
current ROS domain, publishes 640x480 rgb8 frames and 20 ms AudioChunks (the bundled command,
then 2 s of silence, looped), samples the nodes' RSS every few seconds and reads their counters
from /diagnostics after a drain. Prints and writes the numbers; never fails on a time.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

import numpy as np

from perception.audio import SAMPLE_RATE, load_audio
from perception.audio.io import to_pcm16
from perception.bag.live import collect_diagnostics, spin_until, stop_graph
from perception.ros import convert
from perception.ros.launch_file import LaunchPlan, NodeSpec
from perception.ros.launcher import Launcher

REPO = Path(__file__).resolve().parents[1]
CHUNK = SAMPLE_RATE // 50  # 20 ms
COUNTERS = ("received", "processed", "dropped", "failed")
CHUNK_COUNTERS = ("chunks_received", "chunks_processed", "chunks_failed", "chunks_dropped")


def _plan() -> LaunchPlan:
    text = NodeSpec(
        "perception_ros",
        "text_detector",
        "soak_text",
        params=(("detector", "ppocr"), ("read_text", False)),
    )
    speech = NodeSpec("perception_ros", "speech", "soak_speech")
    return LaunchPlan(Path("<soak>"), {}, (text, speech))


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_slope_mb_per_min(samples: list[tuple[float, float]], skip: float = 0.3) -> float:
    """Least-squares slope of (seconds, MB) after the first ``skip`` of the run (warm-up)."""
    if len(samples) < 3:
        return float("nan")
    t = np.array([s[0] for s in samples])
    keep = t >= t[0] + skip * (t[-1] - t[0])
    if keep.sum() < 2:
        return float("nan")
    slope_per_s = np.polyfit(t[keep], np.array([s[1] for s in samples])[keep], 1)[0]
    return float(slope_per_s * 60)


def _audio_loop() -> np.ndarray:
    speech = to_pcm16(load_audio(REPO / "perception" / "data" / "robot_command.wav"))
    return np.concatenate([speech, np.zeros(2 * SAMPLE_RATE, np.int16)])  # (N,)


def run_soak(seconds: float, rate_hz: float = 30.0, log=print) -> dict:
    """Drive the nodes for ``seconds``; returns what was published, the nodes' counters and
    their RSS samples and slopes."""
    import rclpy
    from perception_msgs.msg import AudioChunk
    from perception_ros.base import AUDIO_QOS, RESULT_QOS, SENSOR_QOS
    from sensor_msgs.msg import Image

    from perception.ros.env import apply_safe_ros_env

    apply_safe_ros_env()
    launcher = Launcher(_plan(), out=lambda line: None)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node("soak_driver", context=context)
    image_pub = node.create_publisher(Image, "/image", SENSOR_QOS)
    audio_pub = node.create_publisher(AudioChunk, "/audio", AUDIO_QOS)
    diag = collect_diagnostics(node, RESULT_QOS)
    stop = threading.Event()
    spinner = threading.Thread(target=spin_until, args=(node, stop), daemon=True)
    spinner.start()
    frame = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    pcm, published = _audio_loop(), {"frames": 0, "chunks": 0}
    rss: dict[str, list[tuple[float, float]]] = {"soak_text": [], "soak_speech": []}
    try:
        launcher.start()
        deadline = time.monotonic() + 180
        while image_pub.get_subscription_count() < 1 or audio_pub.get_subscription_count() < 1:
            if time.monotonic() > deadline or any(
                p.poll() is not None for p in launcher.procs.values()
            ):
                raise RuntimeError("the nodes did not start (models in the store?)")
            time.sleep(0.2)
        time.sleep(2.0)  # the other subscriptions match too
        start = time.monotonic()
        next_frame = next_chunk = next_rss = start
        cursor = 0
        while (now := time.monotonic()) < start + seconds:
            header = convert.make_header(node.get_clock().now().to_msg(), "soak")
            if now >= next_frame:
                image_pub.publish(convert.rgb_to_image(frame, header))
                published["frames"] += 1
                next_frame += 1.0 / rate_hz
            if now >= next_chunk:
                chunk = np.take(pcm, range(cursor, cursor + CHUNK), mode="wrap")
                audio_pub.publish(convert.samples_to_chunk(chunk, header, published["chunks"]))
                published["chunks"] += 1
                cursor, next_chunk = (cursor + CHUNK) % len(pcm), next_chunk + CHUNK / SAMPLE_RATE
            if now >= next_rss:
                for name, proc in launcher.procs.items():
                    rss[name].append((now - start, _rss_mb(proc.pid)))
                next_rss += 5.0
            time.sleep(max(0.0, min(next_frame, next_chunk) - time.monotonic()))
        log(f"published {published} in {seconds:.0f} s; draining")
        _drain(diag)
    finally:
        stop_graph(stop, launcher, spinner, node)
    text = {k: int(float(diag.get("/soak_text", {}).get(k, -1))) for k in COUNTERS}
    keys = COUNTERS + CHUNK_COUNTERS
    speech = {k: int(float(diag.get("/soak_speech", {}).get(k, -1))) for k in keys}
    return {
        "seconds": seconds,
        "frame_rate_hz": rate_hz,
        "published": published,
        "text_detector": text,
        "speech": speech,
        "rss_mb": rss,
        "rss_slope_mb_per_min": {n: rss_slope_mb_per_min(s) for n, s in rss.items()},
    }


def _drain(diag: dict, quiet_s: float = 6.0, limit_s: float = 120.0) -> None:
    """Wait until the nodes' processed counters stop moving (the queues are empty)."""
    end, last, seen = time.monotonic() + limit_s, time.monotonic(), None
    while time.monotonic() < end and time.monotonic() - last < quiet_s:
        state = json.dumps(diag, sort_keys=True)
        if state != seen:
            seen, last = state, time.monotonic()
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--out", type=Path, help="JSON file for the numbers")
    args = parser.parse_args()
    result = run_soak(args.seconds)
    summary = {k: v for k, v in result.items() if k != "rss_mb"}
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
