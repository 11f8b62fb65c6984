"""Reading and writing ROS 2 bags with rosbags, with the project's message types registered.

Owns the typestore (Kilted's standard types plus ``perception_msgs`` from the ``.msg`` files in
``ros2_ws``, or from the definitions a bag carries), message construction for bags, and tolerant
reading: a message that cannot be decoded or a bag cut short is reported, never fatal.
It does not know what the messages mean.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from perception.errors import PerceptionError

MSG_DIR = Path(__file__).resolve().parents[2] / "ros2_ws" / "src" / "perception_msgs" / "msg"
Storage = Literal["sqlite3", "mcap"]


class BagError(PerceptionError):
    """A bag cannot be opened or written."""


def typestore(extra_msgdefs: dict[str, str] | None = None) -> Any:
    """A rosbags typestore for ROS 2 Kilted with perception_msgs registered.

    Args:
        extra_msgdefs: ``{"pkg/msg/Name": msg text}`` found in a bag, registered as well.
    """
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_KILTED)
    types: dict[str, Any] = {}
    for path in sorted(MSG_DIR.glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"perception_msgs/msg/{path.stem}"))
    for name, text in (extra_msgdefs or {}).items():
        if name not in store.fielddefs and name not in types:
            types.update(get_types_from_msg(text, name))
    store.register(types)
    return store


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


def read_bag(path: Path, status: BagReadStatus | None = None) -> Iterator[BagMessage]:
    """All messages in log-time order, decoded; undecodable ones come with ``error`` set.

    A bag that ends early (truncated file, damaged database) stops the iteration and the reason
    is put in ``status.error``, so a caller can report how far it got.
    """
    from rosbags.rosbag2 import Reader

    status = status if status is not None else BagReadStatus()
    try:
        reader = Reader(Path(path))
        reader.open()
    except Exception as exc:  # rosbags raises several unrelated types for damaged bags
        mcap_files = sorted(Path(path).glob("*.mcap"))
        if mcap_files:  # an MCAP file without its footer (recorder killed): read it as a stream
            yield from _mcap_stream(mcap_files[0], status, f"{type(exc).__name__}: {exc}")
            return
        raise BagError(
            f"cannot open bag {path}: {exc}; expected a ROS 2 bag folder "
            "(metadata.yaml + .db3 or .mcap)"
        ) from exc
    try:
        defs = {
            c.msgtype: c.msgdef.data
            for c in reader.connections
            if c.msgdef and c.msgdef.data and c.msgdef.format == "msg"
        }
        store = typestore(defs)
        yield from _messages(reader, store, status)
    finally:
        reader.close()


def _messages(reader: Any, store: Any, status: BagReadStatus) -> Iterator[BagMessage]:
    it = reader.messages()
    while True:
        try:
            conn, t_ns, raw = next(it)
        except StopIteration:
            return
        except Exception as exc:  # truncated storage: keep what was read, say where it stopped
            status.error = f"bag ended early: {type(exc).__name__}: {exc}"
            return
        yield _decode(store, conn.topic, conn.msgtype, t_ns, raw)


def _mcap_stream(path: Path, status: BagReadStatus, why: str) -> Iterator[BagMessage]:
    """Messages of an MCAP file read record by record, as far as the file is intact."""
    from mcap import records
    from mcap.stream_reader import StreamReader

    schemas: dict[int, records.Schema] = {}
    channels: dict[int, records.Channel] = {}
    store = None
    status.error = f"bag index unreadable ({why}); read as a stream"
    with open(path, "rb") as f:
        try:
            for record in StreamReader(f).records:
                if isinstance(record, records.Schema):
                    schemas[record.id] = record
                elif isinstance(record, records.Channel):
                    channels[record.id] = record
                    store = None  # new types may need registering
                elif isinstance(record, records.Message) and record.channel_id in channels:
                    if store is None:
                        store = typestore(
                            {
                                s.name: s.data.decode()
                                for s in schemas.values()
                                if s.encoding == "ros2msg"
                            }
                        )
                    yield _decode(
                        store,
                        channels[record.channel_id].topic,
                        schemas[channels[record.channel_id].schema_id].name,
                        record.log_time,
                        record.data,
                    )
        except Exception as exc:  # the cut: keep what was read, say where it stopped
            status.error = f"bag ended early: {type(exc).__name__}: {exc} ({why})"


def _decode(store: Any, topic: str, msgtype: str, t_ns: int, raw: bytes) -> BagMessage:
    try:
        return BagMessage(topic, msgtype, t_ns, store.deserialize_cdr(raw, msgtype))
    except Exception as exc:  # one bad message must not end the replay
        return BagMessage(
            topic, msgtype, t_ns, None, f"cannot decode {msgtype}: {type(exc).__name__}: {exc}"
        )


class BagWriter:
    """Writes messages built with :meth:`make` into a new bag (sqlite3 or MCAP)."""

    def __init__(self, path: Path, storage: Storage = "mcap") -> None:
        from rosbags.rosbag2 import StoragePlugin, Writer

        if Path(path).exists():
            raise BagError(f"{path} already exists; choose a new bag folder or delete it")
        plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
        self.store = typestore()
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
        if topic not in self._connections:
            self._connections[topic] = self._writer.add_connection(
                topic, msgtype, typestore=self.store
            )
        self._writer.write(
            self._connections[topic], log_time_ns, self.store.serialize_cdr(msg, msgtype)
        )

    def write_raw(self, topic: str, msgtype: str, data: bytes, log_time_ns: int) -> None:
        """Write CDR bytes as received from rclpy (``raw=True`` subscriptions)."""
        if topic not in self._connections:
            self._connections[topic] = self._writer.add_connection(
                topic, msgtype, typestore=self.store
            )
        self._writer.write(self._connections[topic], log_time_ns, data)


def header(store: BagWriter, stamp_ns: int, frame_id: str) -> Any:
    """A rosbags std_msgs/Header."""
    time_t = store.type("builtin_interfaces/msg/Time")
    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    return store.type("std_msgs/msg/Header")(
        stamp=time_t(sec=sec, nanosec=nanosec), frame_id=frame_id
    )


def image_msg(store: BagWriter, rgb: np.ndarray, stamp_ns: int, frame_id: str) -> Any:
    """A rosbags sensor_msgs/Image (rgb8) from an (H, W, 3) uint8 array."""
    h, w, _ = rgb.shape
    return store.type("sensor_msgs/msg/Image")(
        header=header(store, stamp_ns, frame_id),
        height=h,
        width=w,
        encoding="rgb8",
        is_bigendian=0,
        step=w * 3,
        data=np.ascontiguousarray(rgb, np.uint8).reshape(-1),
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
