"""Message types for reading and writing bags: the bag's own definitions first, ours as fallback.

Owns building a rosbags typestore for one bag: every definition the bag carries (MCAP schemas,
the ``message_definitions`` table of rosbag2 sqlite3 bags from Iron on, ROS 1 connection
headers) is registered as found, so a bag with types this project never heard of still decodes;
a type the bag does not define falls back to the distribution's standard types, the shipped
``.msg`` files (``perception_msgs``; ``audio_common_msgs`` in mgonzs13's or ros-drivers'
flavour) or, failing those, to a named reason. It also builds the typestores the bag writers
use. It does not read messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ROS2_WS = Path(__file__).resolve().parents[2] / "ros2_ws"
PERCEPTION_MSGS = ROS2_WS / "src" / "perception_msgs" / "msg"
AUDIO_COMMON_MSGS = {  # the two unrelated packages named audio_common_msgs
    "mgonzs13": ROS2_WS / "src" / "audio_common_msgs" / "msg",
    "ros-drivers": ROS2_WS / "third_party" / "ros_drivers_audio_common_msgs" / "msg",
}
AudioFlavour = Literal["mgonzs13", "ros-drivers"]
# types only ros-drivers publishes as topics (mgonzs13 nests its AudioData/AudioInfo in Audio)
_ROS_DRIVERS_TOPIC_TYPES = {
    "audio_common_msgs/msg/AudioData",
    "audio_common_msgs/msg/AudioDataStamped",
    "audio_common_msgs/msg/AudioInfo",
}


@dataclass(frozen=True)
class TypeDefinition:
    """A topic type's definition as a bag carries it (``text`` empty when it carries none)."""

    msgtype: str
    text: str
    idl: bool = False


@dataclass
class BagTypes:
    """The typestore of one bag and where each topic type's definition came from."""

    store: Any
    source: dict[str, str] = field(default_factory=dict)  # msgtype → "bag", "shipped", ...
    missing: dict[str, str] = field(default_factory=dict)  # msgtype → why it cannot decode


def _parse(text: str, name: str, idl: bool = False) -> dict:
    from rosbags.typesys import get_types_from_idl, get_types_from_msg

    return get_types_from_idl(text) if idl else get_types_from_msg(text, name)


def shipped_types(package_dir: Path, package: str) -> dict:
    """Parse trees of every ``.msg`` file in ``package_dir`` as ``package/msg/Name``."""
    types: dict = {}
    for path in sorted(package_dir.glob("*.msg")):
        types.update(_parse(path.read_text(), f"{package}/msg/{path.stem}"))
    return types


def _base(ros1: bool, flavour: AudioFlavour) -> dict:
    """The fallback definitions: the distribution's standard types and the shipped packages."""
    from rosbags.typesys import Stores, get_typestore

    types = dict(get_typestore(Stores.ROS1_NOETIC if ros1 else Stores.ROS2_KILTED).fielddefs)
    if not ros1:
        types.update(shipped_types(PERCEPTION_MSGS, "perception_msgs"))
    types.update(shipped_types(AUDIO_COMMON_MSGS[flavour], "audio_common_msgs"))
    return types


def writer_typestore(flavour: AudioFlavour = "mgonzs13", ros1: bool = False) -> Any:
    """A typestore with the standard types, perception_msgs (ROS 2) and audio_common_msgs."""
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.EMPTY)
    store.register(_base(ros1, flavour))
    return store


def _fallback_flavour(ros1: bool, undefined: set[str]) -> AudioFlavour:
    """Which audio_common_msgs a bag means when it does not say: ROS 1 only had ros-drivers'."""
    return "ros-drivers" if ros1 or undefined & _ROS_DRIVERS_TOPIC_TYPES else "mgonzs13"


def bag_typestore(definitions: list[TypeDefinition], ros1: bool = False) -> BagTypes:
    """A typestore for a bag whose topics have ``definitions``; the bag's own win."""
    from rosbags.typesys import Stores, get_typestore

    undefined = {d.msgtype for d in definitions if not d.text.strip()}
    types = _base(ros1, _fallback_flavour(ros1, undefined))
    result = BagTypes(get_typestore(Stores.EMPTY))
    for d in definitions:
        if not d.text.strip():
            continue
        try:
            types.update(_parse(d.text, d.msgtype, d.idl))
            result.source[d.msgtype] = "bag"
        except Exception as exc:  # rosbags raises its parser's own types for bad text
            result.missing[d.msgtype] = (
                f"the bag's definition of it cannot be parsed ({type(exc).__name__}: {exc})"
            )
    result.store.register(types)
    for d in definitions:
        if d.msgtype in result.source or d.msgtype in result.missing:
            continue
        if d.msgtype in result.store.types:
            result.source[d.msgtype] = "shipped"
        else:
            result.missing[d.msgtype] = (
                "the bag carries no definition of it and none is shipped; record with a "
                "rosbag2 that stores definitions (MCAP, or sqlite3 from Iron on) or add its "
                ".msg files to the fallback in perception/bag/types.py"
            )
    return result
