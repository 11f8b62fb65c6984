"""Microphone messages to mono float32 samples with their rate.

Owns one converter per message type: ``perception_msgs/AudioChunk``; mgonzs13/audio_common's
``audio_common_msgs/Audio`` and ``AudioStamped`` (whisper_ros's input; the sample format is a
PyAudio id in ``info.format``); ros-drivers/audio_common's ``audio_common_msgs/AudioData`` and
``AudioDataStamped``, whose bytes are described by a separate ``AudioInfo`` message. The two
packages share a name, so a converter tells them apart by the fields the message was decoded
with (its definition). Channels are averaged to mono here; the rate is left as it came
(:class:`perception.audio.stream.StreamResampler` brings it to 16 kHz). A float message with a
NaN or infinite sample is rejected whole (a FrameError), never repaired. Readers are duck-typed
(rclpy and rosbags messages alike). It knows nothing about models or bags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from perception.audio.io import AudioError, check_finite
from perception.ros.convert import FrameError

# PyAudio's sample format ids (portaudio.h paFloat32 ... paUInt8) as mgonzs13's AudioInfo uses them
PYAUDIO_FORMATS = {
    1: ("float32_data", np.float32),
    2: ("int32_data", np.int32),
    8: ("int16_data", np.int16),
    16: ("int8_data", np.int8),
    32: ("uint8_data", np.uint8),
}
# GStreamer sample formats that ros-drivers' audio_capture writes into AudioInfo.sample_format
GST_FORMATS = {
    "U8": "u1",
    "S8": "i1",
    "S16LE": "<i2",
    "S16BE": ">i2",
    "S32LE": "<i4",
    "S32BE": ">i4",
    "F32LE": "<f4",
    "F32BE": ">f4",
    "F64LE": "<f8",
    "F64BE": ">f8",
}


@dataclass(frozen=True)
class AudioBlock:
    """Samples of one message: mono float32 in [-1, 1], shape (N,), at ``rate_hz``."""

    samples: np.ndarray
    rate_hz: int


@dataclass(frozen=True)
class PcmFormat:
    """What a ros-drivers ``AudioInfo`` says about the bytes of the AudioData that follow."""

    rate_hz: int
    channels: int
    dtype: str  # numpy dtype string, e.g. "<i2"


def to_unit_float(samples: np.ndarray) -> np.ndarray:
    """Integer or float PCM as float32 in [-1, 1]: signed by 2^(bits-1), unsigned about its
    midpoint, floats unchanged."""
    if samples.dtype.kind == "f":
        return samples.astype(np.float32)
    bits = samples.dtype.itemsize * 8
    if samples.dtype.kind == "u":
        return (samples.astype(np.float32) - 2 ** (bits - 1)) / 2 ** (bits - 1)
    return samples.astype(np.float32) / 2 ** (bits - 1)


def _mono(samples: np.ndarray, channels: int, rate_hz: int, what: str) -> AudioBlock:
    """Interleaved samples (N * channels,) → an AudioBlock; checks the header's numbers."""
    if channels < 1 or rate_hz < 1:
        raise FrameError(
            f"{what}: {channels} channels at {rate_hz} Hz; expected at least one channel and a "
            "positive rate (check the capture node's parameters)"
        )
    if samples.size % channels:
        raise FrameError(f"{what}: {samples.size} samples, not a multiple of {channels} channels")
    pcm = to_unit_float(samples)
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1, dtype=np.float64).astype(np.float32)
    try:  # after the mixdown, which can overflow huge float samples to inf
        check_finite(pcm, what)
    except AudioError as exc:  # a float message with NaN / inf: skipped, the stream goes on
        raise FrameError(str(exc)) from None
    return AudioBlock(pcm, rate_hz)


def chunk_to_block(msg: Any, info: PcmFormat | None = None) -> AudioBlock:
    """A perception_msgs/AudioChunk (int16, interleaved)."""
    samples = np.frombuffer(msg.samples, np.int16)
    return _mono(samples, int(msg.channels), int(msg.sample_rate_hz), "AudioChunk")


def audio_to_block(msg: Any, info: PcmFormat | None = None) -> AudioBlock:
    """An audio_common_msgs/Audio of mgonzs13's audio_common (format id in ``info.format``)."""
    fmt = int(msg.info.format)
    if fmt not in PYAUDIO_FORMATS:
        raise FrameError(
            f"audio_common_msgs/Audio: format id {fmt} is not supported; expected one of "
            f"{sorted(PYAUDIO_FORMATS)} (PyAudio float32, int32, int16, int8, uint8)"
        )
    field, dtype = PYAUDIO_FORMATS[fmt]
    samples = np.frombuffer(getattr(msg.audio_data, field), dtype)
    return _mono(samples, int(msg.info.channels), int(msg.info.rate), f"Audio ({field})")


def audio_stamped_to_block(msg: Any, info: PcmFormat | None = None) -> AudioBlock:
    """An audio_common_msgs/AudioStamped of mgonzs13's audio_common."""
    return audio_to_block(msg.audio)


def audio_data_to_block(msg: Any, info: PcmFormat | None) -> AudioBlock:
    """An audio_common_msgs/AudioData of ros-drivers' audio_common (``uint8[] data``), read
    with the format of the last AudioInfo.

    Raises:
        FrameError: for mgonzs13's AudioData (typed arrays, no rate), or no AudioInfo yet.
    """
    if not hasattr(msg, "data"):
        raise FrameError(
            "audio_common_msgs/AudioData with typed arrays (mgonzs13's definition) carries no "
            "sample rate; record audio_common_msgs/msg/AudioStamped instead"
        )
    if info is None:
        raise FrameError(
            "ros-drivers AudioData before any audio_common_msgs/msg/AudioInfo: its bytes have "
            "no known format; record the capture node's audio_info topic with the audio"
        )
    data = np.frombuffer(msg.data, np.uint8)
    itemsize = np.dtype(info.dtype).itemsize
    if data.size % itemsize:
        raise FrameError(f"AudioData: {data.size} bytes, not a multiple of {info.dtype} samples")
    return _mono(data.view(info.dtype), info.channels, info.rate_hz, "AudioData")


def audio_data_stamped_to_block(msg: Any, info: PcmFormat | None) -> AudioBlock:
    """An audio_common_msgs/AudioDataStamped (ros-drivers), read as :func:`audio_data_to_block`."""
    return audio_data_to_block(msg.audio, info)


def audio_info_to_format(msg: Any) -> PcmFormat:
    """A ros-drivers audio_common_msgs/AudioInfo as a :class:`PcmFormat`.

    Raises:
        FrameError: for MP3 coding or a sample format not in :data:`GST_FORMATS`.
    """
    coding = str(msg.coding_format).strip().lower()
    if coding not in ("wave", "wav", "pcm", "raw", ""):
        raise FrameError(
            f"AudioInfo coding_format {msg.coding_format!r} is not decoded; expected wave (raw "
            "PCM): start audio_capture with format:=wave"
        )
    sample_format = str(msg.sample_format).strip().upper()
    if sample_format not in GST_FORMATS:
        raise FrameError(
            f"AudioInfo sample_format {msg.sample_format!r} is not supported; expected one of "
            f"{', '.join(GST_FORMATS)}"
        )
    return PcmFormat(int(msg.sample_rate), int(msg.channels), GST_FORMATS[sample_format])
