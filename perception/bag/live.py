"""``perception eval BAG --live``: the bag played through the live nodes, results collected.

Owns the live path of the evaluation: start the text-detection and speech nodes as processes
(the launcher, on the caller's ROS domain), play the bag onto their input topics at the
recorded pace, collect the TextRegions / Transcript messages they publish and the nodes' last
diagnostics, and turn them into the same :class:`~perception.bag.evaluate.Replay` the in-process
path produces, so the report is the same. Input messages the nodes never reported are "lost in
transport"; the nodes' own drops and failures come from their diagnostics.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from perception.bag.evaluate import (
    EvalOptions,
    FrameResult,
    GroundTruthError,
    Pipelines,
    Replay,
    TopicAccount,
    TranscriptResult,
    parse_ground_truth,
)
from perception.bag.io import BagReadStatus, read_bag
from perception.bag.play import play
from perception.bag.topics import TopicPlan
from perception.errors import PerceptionError
from perception.ros.convert import msg_to_regions, msg_to_transcript, stamp_ns
from perception.ros.inputs import LIVE_AUDIO_TYPES
from perception.ros.launch_file import LaunchPlan, NodeSpec
from perception.ros.launcher import Launcher
from perception.ros.params import flatten

DRAIN_S = 20.0  # after the last input, how long to wait for the slowest result
READY_TIMEOUT_S = 120.0  # model loading in the nodes


def _plan(sections: dict, topics: TopicPlan) -> LaunchPlan:
    """A text detector for the image topic and a speech node for the audio topic, each told
    its input type."""
    image_type = (("node.image_type", topics.type_of(topics.image)),)
    audio_type = (("node.audio_type", topics.type_of(topics.audio)),)
    nodes = (
        NodeSpec(
            "perception_ros",
            "text_detector",
            "eval_text_detector",
            params=tuple(sections.get("vision", {}).items()) + image_type,
            remaps=(("image", topics.image), ("regions", "/eval/regions")),
        ),
        NodeSpec(
            "perception_ros",
            "speech",
            "eval_speech",
            params=tuple(sections.get("speech", {}).items()) + audio_type,
            remaps=(("audio", topics.audio), ("transcript", "/eval/transcript")),
        ),
    )
    return LaunchPlan(Path("<perception eval --live>"), {}, nodes)


def _live_topics(path: Path, options: EvalOptions) -> TopicPlan:
    """The bag's image and audio topics, if the live nodes can take them."""
    if Path(path).suffix == ".bag":
        raise PerceptionError(
            f"{path}: --live plays ROS 2 bags; evaluate a ROS 1 bag in-process (without --live)"
        )
    topics = options.plan(path)
    if not topics.image or not topics.audio:
        raise PerceptionError(
            f"{path}: --live needs an image and an audio topic; found image "
            f"{topics.image or 'none'}, audio {topics.audio or 'none'}"
        )
    if topics.type_of(topics.audio) not in LIVE_AUDIO_TYPES:
        raise PerceptionError(
            f"{topics.audio} is {topics.type_of(topics.audio)}; the live speech node takes "
            f"{', '.join(LIVE_AUDIO_TYPES)}: evaluate this bag in-process (without --live)"
        )
    return topics


def flat_sections(speech: object | None, vision: object | None) -> dict:
    """Option dataclasses as node parameters (field paths)."""
    return {
        "speech": flatten(speech) if speech is not None else {},
        "vision": flatten(vision) if vision is not None else {},
    }


def replay_live(
    path: Path,
    sections: dict,
    pipes: Pipelines,
    rate: float = 1.0,
    options: EvalOptions | None = None,
    log=print,
) -> Replay:
    """Play ``path`` through freshly started nodes and collect their results."""
    import rclpy
    from perception_msgs.msg import TextRegions, Transcript
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    from perception.ros.env import apply_safe_ros_env

    apply_safe_ros_env()
    topics = _live_topics(path, options or EvalOptions())
    result = Replay(bag=str(path))
    result.notes.append(f"live: nodes as processes, bag played at {rate}x recorded speed")
    launcher = Launcher(_plan(sections, topics), out=log)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node("perception_eval", context=context)
    reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    regions, transcripts = [], []
    node.create_subscription(TextRegions, "/eval/regions", regions.append, reliable)
    node.create_subscription(Transcript, "/eval/transcript", transcripts.append, reliable)
    diag = collect_diagnostics(node, reliable)
    stop = threading.Event()
    spinner = threading.Thread(target=spin_until, args=(node, stop), daemon=True)
    spinner.start()
    start = time.perf_counter()
    try:
        launcher.start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        published = play(
            node,
            path,
            rate,
            (topics.image, topics.audio),
            stop,
            wait_for=lambda: _ready(node, launcher, topics, deadline),
        )
        _drain(regions, transcripts, stop)
    finally:
        stop_graph(stop, launcher, spinner, node)
    result.wall_s = time.perf_counter() - start
    _collect(result, path, published, regions, transcripts, diag, topics)
    return result


def stop_graph(stop: threading.Event, launcher: Launcher, spinner: threading.Thread, node) -> None:
    """Stop the spinner, the launched nodes, then the driving node and its context."""
    stop.set()
    launcher.stop()
    spinner.join(2.0)
    context = node.context
    node.destroy_node()
    context.try_shutdown()


def collect_diagnostics(node, qos) -> dict[str, dict[str, str]]:
    """The latest values of every status on /diagnostics by node name, kept up to date while
    ``node`` spins."""
    from diagnostic_msgs.msg import DiagnosticArray

    latest: dict[str, dict[str, str]] = {}
    node.create_subscription(
        DiagnosticArray,
        "/diagnostics",
        lambda m: latest.update({s.name: {v.key: v.value for v in s.values} for s in m.status}),
        qos,
    )
    return latest


def spin_until(node, stop: threading.Event) -> None:
    """Spin ``node`` in its own executor until ``stop`` is set (run it in a thread)."""
    import rclpy

    executor = rclpy.executors.SingleThreadedExecutor(context=node.context)
    executor.add_node(node)
    while not stop.is_set() and node.context.ok():
        executor.spin_once(timeout_sec=0.1)


def _ready(node, launcher: Launcher, topics: TopicPlan, deadline: float) -> bool:
    """True once both nodes subscribe; an error if one exited or they are too slow to start."""
    dead = {n: p.returncode for n, p in launcher.procs.items() if p.poll() is not None}
    if dead:
        raise PerceptionError(
            f"node(s) exited before the replay started: {dead}; their output "
            "above says why (e.g. a model that is not in the store)"
        )
    if time.monotonic() > deadline:
        raise PerceptionError(f"the nodes did not subscribe within {READY_TIMEOUT_S:.0f} s")
    return all(node.count_subscribers(t) > 0 for t in (topics.image, topics.audio))


def _drain(regions: list, transcripts: list, stop: threading.Event) -> None:
    """Wait until no result arrived for a while (the slowest model has finished)."""
    last, seen = time.monotonic(), -1
    while time.monotonic() - last < DRAIN_S and not stop.is_set():
        if len(regions) + len(transcripts) != seen:
            seen, last = len(regions) + len(transcripts), time.monotonic()
        time.sleep(0.2)


def _collect(
    result: Replay, path: Path, published, regions, transcripts, diag, topics: TopicPlan
) -> None:
    status, types = BagReadStatus(), {}
    for item in read_bag(path, status):
        types[item.topic] = item.msgtype
        if item.topic == topics.gt and item.msg is not None:
            try:
                result.ground_truth = parse_ground_truth(item.msg.data, item.topic)
            except GroundTruthError as exc:
                result.notes.append(f"ground truth not used: {exc}")
    result.bag_error = status.error
    result.frames = [
        FrameResult(stamp_ns(m.header), tuple(msg_to_regions(m)), m.latency_ms) for m in regions
    ]
    result.transcripts = [
        TranscriptResult(msg_to_transcript(m), m.latency_ms) for m in transcripts
    ]
    det = _counts(diag.get("/eval_text_detector", {}))
    result.accounts[topics.image] = _account(
        types.get(topics.image, ""),
        published.get(topics.image, 0),
        processed=len(regions),
        failed=(det["failed"], "failed in the detector node (see its log)"),
        dropped=(det["dropped"], "dropped by the detector node (newest frame wins)"),
    )
    speech = _counts(diag.get("/eval_speech", {}))
    # audio messages are counted one by one by the speech node (its chunks_* diagnostics)
    result.accounts[topics.audio] = _account(
        types.get(topics.audio, ""),
        published.get(topics.audio, 0),
        processed=speech["chunks_processed"],
        failed=(speech["chunks_failed"], "failed in the speech node (see its log)"),
        dropped=(speech["chunks_dropped"], "arrived while the speech node was not active"),
    )
    result.notes.append(
        f"speech node: {speech['received']} utterances, {speech['processed']} recognised, "
        f"{speech['dropped']} dropped (newest wins), {speech['failed']} failed; "
        f"{len(transcripts)} transcripts received"
    )


def _account(
    msgtype: str,
    published: int,
    processed: int,
    failed: tuple[int, str],
    dropped: tuple[int, str],
) -> TopicAccount:
    """One input topic's fate from what was published and what its node reported; messages
    the node never reported are skipped as lost."""
    account = TopicAccount(msgtype, received=published, processed=processed)
    account.failed, account.reasons[failed[1]] = failed[0], failed[0]
    account.skipped, account.reasons[dropped[1]] = dropped[0], dropped[0]
    lost = published - processed - failed[0] - dropped[0]
    if lost > 0:  # published but never reported by the node
        account.skipped += lost
        account.reasons["lost in transport or never reported"] = lost
    account.reasons = +account.reasons  # keep only reasons that happened
    return account


def _counts(values: dict) -> dict[str, int]:
    keys = ("received", "processed", "dropped", "failed")
    keys += ("chunks_received", "chunks_processed", "chunks_failed", "chunks_dropped")
    return {k: int(float(values.get(k, 0))) for k in keys}
