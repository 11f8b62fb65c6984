"""Bag types: the bag's own definitions first, the shipped ones next, else a named failure."""

from __future__ import annotations

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from perception.bag.evaluate import EvalOptions, Pipelines, replay_bag
from perception.bag.io import BagWriter, header, read_bag
from perception.bag.types import writer_typestore

DOCK = "string state\nfloat32 charge_v\n"
NO_HASH = "RIHS01_" + "0" * 64


def _bare_bag(path, store, items):
    """A sqlite3 bag whose topics carry no definitions (as rosbag2 wrote before Iron)."""
    with Writer(path, version=9, storage_plugin=StoragePlugin.SQLITE3) as writer:
        conns = {}
        for topic, msg, t_ns in items:
            if topic not in conns:
                conns[topic] = writer.add_connection(
                    topic, msg.__msgtype__, msgdef="", rihs01=NO_HASH
                )
            writer.write(conns[topic], t_ns, store.serialize_cdr(msg, msg.__msgtype__))


def test_a_type_only_the_bag_defines_decodes(tmp_path):
    with BagWriter(tmp_path / "b", "mcap") as bag:
        bag.store.register(get_types_from_msg(DOCK, "robot_msgs/msg/DockState"))
        dock = bag.type("robot_msgs/msg/DockState")(state="docked", charge_v=24.5)
        bag.write("/dock", dock, 5)
    (item,) = read_bag(tmp_path / "b")
    assert item.error == "" and item.msg.state == "docked" and item.msg.charge_v == 24.5


def test_the_bags_definition_wins_over_the_shipped_one(tmp_path):
    newer = "std_msgs/Header header\nuint32 sample_rate_hz\nuint8 channels\nint16[] samples\n"
    newer += "uint64 sequence\nstring microphone\n"  # a field our AudioChunk does not have
    store = get_typestore(Stores.EMPTY)
    types = get_types_from_msg(newer, "perception_msgs/msg/AudioChunk")
    store.register({**writer_typestore().fielddefs, **types})
    with BagWriter(tmp_path / "b", "mcap") as bag:
        bag.store = store  # the bag's AudioChunk is the newer definition
        chunk = bag.type("perception_msgs/msg/AudioChunk")(
            header=header(bag, 1, "mic"),
            sample_rate_hz=16000,
            channels=1,
            samples=np.arange(4, dtype=np.int16),
            sequence=0,
            microphone="array-left",
        )
        bag.write("/mic", chunk, 1)
    (item,) = read_bag(tmp_path / "b")
    assert item.error == "" and item.msg.microphone == "array-left"


def test_bags_without_definitions_fall_back_to_the_shipped_flavour(tmp_path):
    mg, rd = writer_typestore("mgonzs13"), writer_typestore("ros-drivers")
    info = rd.types["audio_common_msgs/msg/AudioInfo"](
        channels=1, sample_rate=16000, sample_format="S16LE", bitrate=0, coding_format="wave"
    )
    data = rd.types["audio_common_msgs/msg/AudioData"](data=np.zeros(64, np.uint8))
    _bare_bag(tmp_path / "rd", rd, [("/audio_info", info, 1), ("/audio", data, 2)])
    assert [i.error for i in read_bag(tmp_path / "rd")] == ["", ""]
    T = mg.types
    arrays = {
        f"{k}_data": np.zeros(2, d)
        for k, d in (("float32", "f4"), ("int32", "i4"), ("int16", "i2"), ("int8", "i1"))
    }
    audio = T["audio_common_msgs/msg/Audio"](
        audio_data=T["audio_common_msgs/msg/AudioData"](
            uint8_data=np.zeros(0, np.uint8), **arrays
        ),
        info=T["audio_common_msgs/msg/AudioInfo"](format=8, channels=1, rate=16000, chunk=2),
    )
    stamped = T["audio_common_msgs/msg/AudioStamped"](
        header=T["std_msgs/msg/Header"](
            stamp=T["builtin_interfaces/msg/Time"](sec=0, nanosec=0), frame_id=""
        ),
        audio=audio,
    )
    _bare_bag(tmp_path / "mg", mg, [("/audio", stamped, 1)])
    (item,) = read_bag(tmp_path / "mg")
    assert item.error == "" and list(item.msg.audio.audio_data.int16_data) == [0, 0]


def test_a_type_defined_nowhere_is_a_counted_named_failure(tmp_path):
    store = writer_typestore()
    store.register(get_types_from_msg(DOCK, "robot_msgs/msg/DockState"))
    dock = store.types["robot_msgs/msg/DockState"](state="undocked", charge_v=22.0)
    _bare_bag(tmp_path / "b", store, [("/dock", dock, 1), ("/dock", dock, 2)])
    pipes = Pipelines(None, None, why_missing={"vision": "off", "speech": "off"})
    account = replay_bag(tmp_path / "b", pipes, EvalOptions()).accounts["/dock"]
    assert (account.received, account.failed) == (2, 2)
    (reason,) = account.reasons
    assert reason.startswith("cannot decode robot_msgs/msg/DockState: the bag carries no def")
