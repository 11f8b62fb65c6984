"""``perception bag info``: what a bag holds and what the evaluation would do with each topic.

Owns one pass over the bag's raw messages (nothing is decoded) for counts, times and rates per
topic, where each topic type's definition comes from (the bag, the shipped ``.msg`` files, or
nowhere and why) and which pipeline takes the topic (:mod:`perception.bag.topics`). It runs no
model.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from perception.bag.io import BagReadStatus, open_bag
from perception.bag.topics import TopicPlan, plan_topics
from perception.bag.types import bag_typestore


@dataclass(frozen=True)
class TopicSummary:
    topic: str
    msgtype: str
    count: int
    rate_hz: float  # messages per second between the first and the last (0 for fewer than 2)
    definition: str  # where the type's definition comes from: "bag", "shipped" or "none"
    role: str  # what the evaluation does with the topic


@dataclass(frozen=True)
class BagSummary:
    path: Path
    storage: str  # "ROS 2 MCAP", "ROS 2 sqlite3" or "ROS 1"
    duration_s: float
    topics: tuple[TopicSummary, ...]
    problems: tuple[str, ...]  # topic choices the user has to make
    undecodable: tuple[str, ...]  # "type: why" for types with no usable definition
    read_error: str  # where reading stopped, for a damaged bag


def _storage(path: Path, ros1: bool) -> str:
    if ros1:
        return "ROS 1"
    mcap = path.suffix == ".mcap" or (path.is_dir() and any(path.glob("*.mcap")))
    return "ROS 2 MCAP" if mcap else "ROS 2 sqlite3"


def summarize_bag(path: Path, image_topic: str = "", audio_topic: str = "") -> BagSummary:
    """Count, time and classify every topic of the bag at ``path``."""
    status = BagReadStatus()
    times: dict[str, list[int]] = defaultdict(list)  # topic → [first, last, count]
    with open_bag(path, status) as bag:
        types = bag_typestore(bag.definitions, bag.ros1)
        for topic, _, t_ns, _ in bag.messages:
            seen = times[topic]
            seen[:] = [t_ns, t_ns, 1] if not seen else [seen[0], t_ns, seen[2] + 1]
        plan = plan_topics(bag.topics, image_topic, audio_topic, strict=False)
        summaries = tuple(
            _topic(t, i.msgtype, times.get(t), types, plan) for t, i in bag.topics.items()
        )
        storage = _storage(Path(path), bag.ros1)
    starts, ends = [v[0] for v in times.values()], [v[1] for v in times.values()]
    duration_s = (max(ends) - min(starts)) * 1e-9 if starts else 0.0
    undecodable = tuple(f"{t}: {why}" for t, why in sorted(types.missing.items()))
    return BagSummary(
        Path(path), storage, duration_s, summaries, plan.problems, undecodable, status.error
    )


def _topic(topic: str, msgtype: str, seen, types, plan: TopicPlan) -> TopicSummary:
    first, last, count = seen or (0, 0, 0)
    rate_hz = (count - 1) / ((last - first) * 1e-9) if count > 1 and last > first else 0.0
    definition = types.source.get(msgtype, "none")
    return TopicSummary(topic, msgtype, count, rate_hz, definition, plan.role(topic))


def format_summary(summary: BagSummary) -> str:
    """The summary as a table, the problems and the read error below it."""
    total = sum(t.count for t in summary.topics)
    lines = [
        f"bag: {summary.path} ({summary.storage}), {summary.duration_s:.1f} s, {total} messages"
    ]
    rows = [("topic", "type", "count", "rate Hz", "definition", "pipeline")]
    rows += [
        (t.topic, t.msgtype, str(t.count), f"{t.rate_hz:.1f}", t.definition, t.role)
        for t in sorted(summary.topics, key=lambda t: t.topic)
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        lines.append(
            "  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5]
        )
    lines += [f"cannot decode {u}" for u in summary.undecodable]
    lines += [f"choose: {p}" for p in summary.problems]
    if summary.read_error:
        lines.append(f"bag: {summary.read_error}")
    return "\n".join(lines)
