"""The message types the pipelines take, and the per-stream state of an audio input.

Owns the one table from a message type name to its converter (images: :mod:`.images`; audio:
:mod:`.audio`), the type names the live nodes can subscribe to, and :class:`AudioStream`: an
audio topic's messages turned into the 16 kHz mono stream the speech pipeline takes, with the
resampler's state and the last ros-drivers ``AudioInfo``. The bag replay and the live nodes both
go through it. It does not spin nodes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from perception.audio import SAMPLE_RATE
from perception.audio.stream import StreamResampler
from perception.errors import ConfigError
from perception.ros import audio, images

IMAGE_CONVERTERS: dict[str, Callable[[Any], np.ndarray]] = {
    "sensor_msgs/msg/Image": images.image_to_rgb,
    "sensor_msgs/msg/CompressedImage": images.compressed_to_rgb,
}
AUDIO_CONVERTERS: dict[str, Callable[[Any, audio.PcmFormat | None], audio.AudioBlock]] = {
    "perception_msgs/msg/AudioChunk": audio.chunk_to_block,
    "audio_common_msgs/msg/AudioStamped": audio.audio_stamped_to_block,
    "audio_common_msgs/msg/Audio": audio.audio_to_block,
    "audio_common_msgs/msg/AudioDataStamped": audio.audio_data_stamped_to_block,
    "audio_common_msgs/msg/AudioData": audio.audio_data_to_block,
}
AUDIO_INFO_TYPE = "audio_common_msgs/msg/AudioInfo"  # ros-drivers: the format of AudioData
# the live nodes subscribe with generated rclpy classes: audio_common_msgs is built in
# mgonzs13's flavour (scripts/build_ros_msgs.sh), so ros-drivers' types are bag-replay only
LIVE_IMAGE_TYPES = tuple(IMAGE_CONVERTERS)
LIVE_AUDIO_TYPES = ("perception_msgs/msg/AudioChunk", "audio_common_msgs/msg/AudioStamped")


def full_type_name(name: str) -> str:
    """``pkg/Name`` or ``pkg/msg/Name`` → ``pkg/msg/Name``."""
    parts = name.strip().split("/")
    return "/".join([parts[0], "msg", parts[1]]) if len(parts) == 2 else name.strip()


def check_live_type(name: str, allowed: tuple[str, ...], what: str) -> str:
    """The full type name if a live node can subscribe to it; a ConfigError naming the choices
    otherwise."""
    full = full_type_name(name)
    if full not in allowed:
        raise ConfigError(
            f"{what} {name!r} is not supported by the live nodes; expected one of "
            f"{', '.join(allowed)} (ros-drivers' audio_common types are read in bag replay only)"
        )
    return full


def rclpy_class(type_name: str) -> type:
    """The generated rclpy message class of ``pkg/msg/Name``."""
    pkg, kind, name = full_type_name(type_name).split("/")
    try:
        return getattr(importlib.import_module(f"{pkg}.{kind}"), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"no Python message class for {type_name} ({type(exc).__name__}: {exc}); build the "
            "interfaces with `bash scripts/build_ros_msgs.sh` (perception_msgs, mgonzs13's "
            "audio_common_msgs) or source the workspace that provides it"
        ) from exc


class AudioStream:
    """One audio topic: messages in, 16 kHz mono float32 samples out.

    Raises (from :meth:`feed`, :meth:`set_info`): ``FrameError`` with a one-line reason for a
    message that cannot be decoded; the stream goes on with the next one.
    """

    def __init__(self, msgtype: str) -> None:
        if msgtype not in AUDIO_CONVERTERS:
            raise ConfigError(
                f"audio type {msgtype!r} is not supported; expected one of "
                f"{', '.join(AUDIO_CONVERTERS)}"
            )
        self.msgtype = msgtype
        self._convert = AUDIO_CONVERTERS[msgtype]
        self._info: audio.PcmFormat | None = None
        self._resampler: StreamResampler | None = None

    def set_info(self, msg: Any) -> None:
        """A ros-drivers AudioInfo: the format of the AudioData that follow."""
        self._info = audio.audio_info_to_format(msg)

    def feed(self, msg: Any) -> np.ndarray:
        """The 16 kHz samples a message completes, shape (N,) (the resampler holds back a few
        milliseconds; a change of rate first flushes the old stream)."""
        block = self._convert(msg, self._info)
        out = []
        if self._resampler is None or self._resampler.rate_hz != block.rate_hz:
            out.append(self.flush())
            self._resampler = StreamResampler(block.rate_hz, SAMPLE_RATE)
        out.append(self._resampler.feed(block.samples))
        return np.concatenate(out) if len(out) > 1 else out[0]

    def flush(self) -> np.ndarray:
        """What the resampler still holds (end of stream)."""
        if self._resampler is None:
            return np.zeros(0, np.float32)
        return self._resampler.flush()
