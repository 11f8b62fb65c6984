"""Reading and writing bags with rosbags: ROS 2 (sqlite3, MCAP) and ROS 1 (``.bag``).

Owns opening a bag of any of these kinds as one stream of raw messages with its topics and
type definitions, decoding them with the bag's own types (:mod:`perception.bag.types`), message
construction for the bag writers, and tolerant reading: a message that cannot be decoded or a
bag cut short is reported, never fatal. It does not know what the messages mean.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from perception.bag.types import (
    AudioFlavour,
    BagTypes,
    TypeDefinition,
    bag_typestore,
    writer_typestore,
)
from perception.errors import PerceptionError

Storage = Literal["sqlite3", "mcap", "ros1"]
RawMessage = tuple[str, str, int, bytes]  # topic, msgtype, log time (ns), serialized message


class BagError(PerceptionError):
    """A bag cannot be opened or written."""


@dataclass(frozen=True)
class BagMessage:
    """One message read from a bag: topic, type, receive time (ns) and the decoded message."""

    topic: str
    msgtype: str
    log_time_ns: int
    msg: Any | None
    error: str = ""


@dataclass
class BagReadStatus:
    """What reading stopped on: empty when the whole bag was read."""

    error: str = ""


@dataclass(frozen=True)
class TopicInfo:
    topic: str
    msgtype: str
    count: int  # messages by the bag's index; -1 when unknown (a damaged MCAP read as a stream)


@dataclass
class RawBag:
    """An opened bag: topics, the type definitions it carries, raw messages in log-time order."""

    path: Path
    ros1: bool
    topics: dict[str, TopicInfo]
    definitions: list[TypeDefinition]
    messages: Iterator[RawMessage]


@contextmanager
def open_bag(path: Path, status: BagReadStatus | None = None) -> Iterator[RawBag]:
    """Open a ROS 2 bag folder (or its .db3 / .mcap file) or a ROS 1 ``.bag`` file.

    An MCAP file whose index is unreadable (the recorder was killed) is read record by record
    as far as it is intact; where reading stops is put in ``status.error``.
    """
    path, status = Path(path), status if status is not None else BagReadStatus()
    ros1 = path.suffix == ".bag" and path.is_file()
    try:
        reader = _open_reader(path, ros1)
    except Exception as exc:  # rosbags raises several unrelated types for damaged bags
        why = f"{type(exc).__name__}: {exc}"
        mcap_files = sorted(path.glob("*.mcap")) if path.is_dir() else []
        if not mcap_files:
            raise BagError(
                f"cannot open bag {path}: {why}; expected a ROS 2 bag folder (metadata.yaml + "
                ".db3 or .mcap) or a ROS 1 .bag file (a ROS 1 bag without its index needs "
                "`rosbag reindex`)"
            ) from exc
        reader = None
    if reader is None:
        yield _mcap_stream(path, mcap_files[0], status, why)
        return
    try:
        yield RawBag(
            path,
            ros1,
            {
                t: TopicInfo(t, i.msgtype or _main_type(reader.connections, t), i.msgcount)
                for t, i in reader.topics.items()
            },
            _definitions(reader.connections),
            _indexed(reader, status),
        )
    finally:
        reader.close()


def _open_reader(path: Path, ros1: bool) -> Any:
    if ros1:
        from rosbags.rosbag1 import Reader
    else:
        from rosbags.rosbag2 import Reader
    reader = Reader(path)
    reader.open()
    return reader


def _main_type(connections: list, topic: str) -> str:
    """The type most messages on ``topic`` have, for a topic recorded with several types
    (rosbags gives such a topic no type; the replay fails the messages of the others)."""
    counts: dict[str, int] = {}
    for c in connections:
        if c.topic == topic:
            counts[c.msgtype] = counts.get(c.msgtype, 0) + c.msgcount
    return max(counts, key=counts.get) if counts else ""


def _definitions(connections: list) -> list[TypeDefinition]:
    from rosbags.interfaces import MessageDefinitionFormat as Fmt

    found: dict[str, TypeDefinition] = {}
    for c in connections:
        text = c.msgdef.data if c.msgdef.format != Fmt.NONE else ""
        if text.strip() or c.msgtype not in found:
            found[c.msgtype] = TypeDefinition(c.msgtype, text, c.msgdef.format == Fmt.IDL)
    return list(found.values())


def _indexed(reader: Any, status: BagReadStatus) -> Iterator[RawMessage]:
    it = reader.messages()
    while True:
        try:
            conn, t_ns, raw = next(it)
        except StopIteration:
            return
        except Exception as exc:  # truncated storage: keep what was read, say where it stopped
            status.error = f"bag ended early: {type(exc).__name__}: {exc}"
            return
        yield conn.topic, conn.msgtype, t_ns, raw


def _mcap_stream(folder: Path, path: Path, status: BagReadStatus, why: str) -> RawBag:
    """A damaged MCAP file: a first pass for channels and schemas, then its messages."""
    from mcap import records
    from mcap.stream_reader import StreamReader

    schemas: dict[int, records.Schema] = {}
    channels: dict[int, records.Channel] = {}
    status.error = f"bag index unreadable ({why}); read as a stream"
    with open(path, "rb") as f:
        try:
            for record in StreamReader(f).records:
                if isinstance(record, records.Schema):
                    schemas[record.id] = record
                elif isinstance(record, records.Channel):
                    channels[record.id] = record
        except Exception:  # the cut: the second pass reports it
            pass
    types = {
        cid: schemas[c.schema_id].name for cid, c in channels.items() if c.schema_id in schemas
    }
    topics = {c.topic: TopicInfo(c.topic, types.get(cid, ""), -1) for cid, c in channels.items()}
    definitions = [
        TypeDefinition(s.name, s.data.decode(), s.encoding != "ros2msg") for s in schemas.values()
    ]
    return RawBag(folder, False, topics, definitions, _stream(path, channels, types, status, why))


def _stream(path: Path, channels: dict, types: dict, status: BagReadStatus, why: str) -> Iterator:
    from mcap import records
    from mcap.stream_reader import StreamReader

    with open(path, "rb") as f:
        try:
            for record in StreamReader(f).records:
                if isinstance(record, records.Message) and record.channel_id in types:
                    topic = channels[record.channel_id].topic
                    yield topic, types[record.channel_id], record.log_time, record.data
        except Exception as exc:  # the cut: keep what was read, say where it stopped
            status.error = f"bag ended early: {type(exc).__name__}: {exc} ({why})"


def bag_topics(path: Path) -> dict[str, TopicInfo]:
    """The bag's topics and types, from its index (no message is read)."""
    with open_bag(path) as bag:
        return bag.topics


def read_bag(path: Path, status: BagReadStatus | None = None) -> Iterator[BagMessage]:
    """All messages in log-time order, decoded; undecodable ones come with ``error`` set.

    A bag that ends early (truncated file, damaged database) stops the iteration and the reason
    is put in ``status.error``, so a caller can report how far it got.
    """
    with open_bag(path, status) as bag:
        types = bag_typestore(bag.definitions, bag.ros1)
        for topic, msgtype, t_ns, raw in bag.messages:
            yield _decode(types, bag.ros1, topic, msgtype, t_ns, raw)


def _decode(
    types: BagTypes, ros1: bool, topic: str, msgtype: str, t_ns: int, raw: bytes
) -> BagMessage:
    if msgtype in types.missing:
        return BagMessage(
            topic, msgtype, t_ns, None, f"cannot decode {msgtype}: {types.missing[msgtype]}"
        )
    store = types.store
    try:
        msg = store.deserialize_ros1(raw, msgtype) if ros1 else store.deserialize_cdr(raw, msgtype)
        return BagMessage(topic, msgtype, t_ns, msg)
    except Exception as exc:  # one bad message must not end the replay
        return BagMessage(
            topic, msgtype, t_ns, None, f"cannot decode {msgtype}: {type(exc).__name__}: {exc}"
        )


class BagWriter:
    """Writes messages built with :meth:`type` into a new bag (sqlite3, MCAP or ROS 1).

    ``audio_flavour`` chooses which ``audio_common_msgs`` the bag's types are (the two share
    the name); a ROS 1 bag gets ROS Noetic's standard types.
    """

    def __init__(
        self, path: Path, storage: Storage = "mcap", audio_flavour: AudioFlavour = "mgonzs13"
    ) -> None:
        if Path(path).exists():
            raise BagError(f"{path} already exists; choose a new bag path or delete it")
        self.ros1 = storage == "ros1"
        self.store = writer_typestore(audio_flavour, self.ros1)
        if self.ros1:
            from rosbags.rosbag1 import Writer as Writer1

            self._writer: Any = Writer1(Path(path))
        else:
            from rosbags.rosbag2 import StoragePlugin, Writer

            plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
            self._writer = Writer(Path(path), version=9, storage_plugin=plugin)
        self._connections: dict[str, Any] = {}

    def __enter__(self) -> BagWriter:
        self._writer.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self._writer.close()

    def type(self, msgtype: str) -> Any:
        """The rosbags message class, e.g. ``type("sensor_msgs/msg/Image")``."""
        return self.store.types[msgtype]

    def write(self, topic: str, msg: Any, log_time_ns: int) -> None:
        msgtype = msg.__msgtype__
        if self.ros1:
            data = self.store.serialize_ros1(msg, msgtype)
        else:
            data = self.store.serialize_cdr(msg, msgtype)
        self.write_raw(topic, msgtype, data, log_time_ns)

    def write_raw(self, topic: str, msgtype: str, data: bytes, log_time_ns: int) -> None:
        """Write serialized bytes as received (CDR from rclpy ``raw=True`` subscriptions)."""
        if topic not in self._connections:
            self._connections[topic] = self._writer.add_connection(
                topic, msgtype, typestore=self.store
            )
        self._writer.write(self._connections[topic], log_time_ns, data)


def header(store: BagWriter, stamp_ns: int, frame_id: str) -> Any:
    """A rosbags std_msgs/Header (ROS 1's carries a ``seq``, left 0)."""
    time_t = store.type("builtin_interfaces/msg/Time")
    header_t = store.type("std_msgs/msg/Header")
    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    extra = {"seq": 0} if "seq" in header_t.__dataclass_fields__ else {}
    return header_t(stamp=time_t(sec=sec, nanosec=nanosec), frame_id=frame_id, **extra)


def image_msg(
    store: BagWriter, rgb: np.ndarray, stamp_ns: int, frame_id: str, encoding: str = "rgb8"
) -> Any:
    """A rosbags sensor_msgs/Image (rgb8 or bgr8) from an (H, W, 3) uint8 RGB array."""
    h, w, _ = rgb.shape
    pixels = rgb[:, :, ::-1] if encoding == "bgr8" else rgb
    return store.type("sensor_msgs/msg/Image")(
        header=header(store, stamp_ns, frame_id),
        height=h,
        width=w,
        encoding=encoding,
        is_bigendian=0,
        step=w * 3,
        data=np.ascontiguousarray(pixels, np.uint8).reshape(-1),
    )


def chunk_msg(
    store: BagWriter, samples: np.ndarray, stamp_ns: int, frame_id: str, sequence: int
) -> Any:
    """A rosbags perception_msgs/AudioChunk from mono int16 samples at 16 kHz."""
    return store.type("perception_msgs/msg/AudioChunk")(
        header=header(store, stamp_ns, frame_id),
        sample_rate_hz=16000,
        channels=1,
        samples=np.ascontiguousarray(samples, np.int16),
        sequence=sequence,
    )


def string_msg(store: BagWriter, text: str) -> Any:
    return store.type("std_msgs/msg/String")(data=text)
