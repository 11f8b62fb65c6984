"""Robot-style bags: the sample's frames and speech in the message types robot drivers publish.

Owns writing a stream of RGB frames and 16 kHz speech as a robot stack records it, in three
styles: ``robot`` (MCAP; ``sensor_msgs/CompressedImage`` JPEG as image_transport writes it,
mgonzs13's ``audio_common_msgs/AudioStamped`` int16 chunks of 1024 frames, an IMU topic no
pipeline takes), ``ros-drivers`` (rosbag2 sqlite3; ``sensor_msgs/Image`` bgr8, ros-drivers'
``AudioDataStamped`` at 48 kHz stereo with its ``AudioInfo``) and ``ros1`` (a ROS 1 ``.bag``;
PNG ``CompressedImage``, ros-drivers' audio at 16 kHz). Such bags carry no ground-truth topic:
:func:`write_robot_sample` writes the ground truth into a JSON file beside the bag, in the
``--gt`` format. Used by ``perception bag sample`` and the tests; it knows nothing about models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from perception.audio import SAMPLE_RATE, resample
from perception.bag.io import BagWriter, Storage, header, image_msg
from perception.bag.sample import START_NS, SampleSpec, sample_content
from perception.bag.types import AudioFlavour

Style = Literal["robot", "ros-drivers", "ros1"]


@dataclass(frozen=True)
class RobotStyle:
    """How one robot stack records its camera and microphone."""

    storage: Storage
    audio_flavour: AudioFlavour
    image_topic: str
    image_format: Literal["jpeg", "png", "bgr8"]  # CompressedImage codec, or Image encoding
    audio_topic: str
    rate_hz: int
    channels: int
    chunk_frames: int
    info_topic: str = ""  # ros-drivers: the AudioInfo topic
    distractor_topic: str = ""  # an IMU topic at 50 Hz that no pipeline takes


STYLES: dict[str, RobotStyle] = {
    "robot": RobotStyle(
        "mcap", "mgonzs13", "/camera/color/image_raw/compressed", "jpeg", "/audio", 16000, 1, 1024,
        distractor_topic="/imu/data",
    ),
    "ros-drivers": RobotStyle(
        "sqlite3", "ros-drivers", "/camera/color/image_raw", "bgr8", "/audio/audio_stamped",
        48000, 2, 960, info_topic="/audio/audio_info",
    ),
    "ros1": RobotStyle(
        "ros1", "ros-drivers", "/usb_cam/image_raw/compressed", "png", "/audio/audio_stamped",
        16000, 1, 320, info_topic="/audio/audio_info",
    ),
}  # fmt: skip


def gt_path(bag: Path) -> Path:
    """Where :func:`write_robot_sample` puts the ground truth of ``bag``."""
    return bag.parent / f"{bag.stem}.gt.json"


def write_robot_sample(path: Path, style: Style = "robot", spec: SampleSpec | None = None) -> Path:
    """The sample (frames, espeak-ng speech) as a ``style`` bag at ``path``; returns the path
    of its ground-truth file (:func:`gt_path`)."""
    content = sample_content(spec or SampleSpec())
    write_robot_bag(path, STYLES[style], content.pcm, content.images)
    truth = {**content.truth, "style": style}
    gt_path(path).write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return gt_path(path)


def write_robot_bag(
    path: Path, style: RobotStyle, pcm: np.ndarray, images: tuple[tuple[int, np.ndarray], ...]
) -> None:
    """Write ``images`` ((stamp_ns, RGB) pairs) and ``pcm`` (int16 at 16 kHz, starting at
    ``START_NS``) as ``style`` records them, in log-time order."""
    audio = _audio_track(pcm, style)
    messages: list[tuple[int, str, Any]] = []
    with BagWriter(path, style.storage, style.audio_flavour) as bag:
        if style.info_topic:
            messages.append((START_NS, style.info_topic, _audio_info(bag, style)))
        for begin in range(0, audio.shape[0], style.chunk_frames):
            stamp = START_NS + begin * 1_000_000_000 // style.rate_hz
            frames = audio[begin : begin + style.chunk_frames]
            messages.append((stamp, style.audio_topic, _audio_msg(bag, style, frames, stamp)))
        for stamp, rgb in images:
            messages.append((stamp, style.image_topic, _image(bag, style, rgb, stamp)))
        if style.distractor_topic:
            end = START_NS + audio.shape[0] * 1_000_000_000 // style.rate_hz
            for stamp in range(START_NS, end, 20_000_000):
                messages.append((stamp, style.distractor_topic, _imu(bag, stamp)))
        for stamp, topic, msg in sorted(messages, key=lambda m: m[0]):
            bag.write(topic, msg, stamp)


def _audio_track(pcm: np.ndarray, style: RobotStyle) -> np.ndarray:
    """The 16 kHz int16 track at the style's rate and channel count, shape (N, channels)."""
    x = pcm.astype(np.float32) / 32768
    x = resample(x, SAMPLE_RATE, style.rate_hz)
    x = np.repeat(x[:, None], style.channels, axis=1)
    return (np.clip(x, -1, 32767 / 32768) * 32768).round().astype(np.int16)


def _audio_msg(bag: BagWriter, style: RobotStyle, frames: np.ndarray, stamp_ns: int) -> Any:
    if style.audio_flavour == "mgonzs13":
        return _audio_stamped(bag, frames, style.rate_hz, stamp_ns)
    data = np.frombuffer(frames.astype("<i2").tobytes(), np.uint8)
    payload = bag.type("audio_common_msgs/msg/AudioData")(data=data)
    return bag.type("audio_common_msgs/msg/AudioDataStamped")(
        header=header(bag, stamp_ns, "mic"), audio=payload
    )


def _audio_stamped(bag: BagWriter, frames: np.ndarray, rate_hz: int, stamp_ns: int) -> Any:
    """mgonzs13's AudioStamped with int16 frames (N, channels) (PyAudio paInt16 = 8)."""
    empty = {
        "float32_data": np.zeros(0, np.float32),
        "int32_data": np.zeros(0, np.int32),
        "int8_data": np.zeros(0, np.int8),
        "uint8_data": np.zeros(0, np.uint8),
    }
    data = bag.type("audio_common_msgs/msg/AudioData")(int16_data=frames.reshape(-1), **empty)
    info = bag.type("audio_common_msgs/msg/AudioInfo")(
        format=8, channels=frames.shape[1], rate=rate_hz, chunk=frames.shape[0]
    )
    audio = bag.type("audio_common_msgs/msg/Audio")(audio_data=data, info=info)
    return bag.type("audio_common_msgs/msg/AudioStamped")(
        header=header(bag, stamp_ns, "mic"), audio=audio
    )


def _audio_info(bag: BagWriter, style: RobotStyle) -> Any:
    """ros-drivers' AudioInfo for the style's int16 PCM."""
    return bag.type("audio_common_msgs/msg/AudioInfo")(
        channels=style.channels,
        sample_rate=style.rate_hz,
        sample_format="S16LE",
        bitrate=style.rate_hz * style.channels * 16,
        coding_format="wave",
    )


def _image(bag: BagWriter, style: RobotStyle, rgb: np.ndarray, stamp_ns: int) -> Any:
    if style.image_format == "bgr8":
        return image_msg(bag, rgb, stamp_ns, "camera", encoding="bgr8")
    ext, fmt = (".jpg", "rgb8; jpeg compressed bgr8")
    if style.image_format == "png":
        ext, fmt = (".png", "rgb8; png compressed bgr8")
    ok, buf = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok, "OpenCV encodes any uint8 image"
    return bag.type("sensor_msgs/msg/CompressedImage")(
        header=header(bag, stamp_ns, "camera"), format=fmt, data=buf.reshape(-1)
    )


def _imu(bag: BagWriter, stamp_ns: int) -> Any:
    vector = bag.type("geometry_msgs/msg/Vector3")
    return bag.type("sensor_msgs/msg/Imu")(
        header=header(bag, stamp_ns, "imu"),
        orientation=bag.type("geometry_msgs/msg/Quaternion")(x=0.0, y=0.0, z=0.0, w=1.0),
        orientation_covariance=np.zeros(9),
        angular_velocity=vector(x=0.0, y=0.0, z=0.01),
        angular_velocity_covariance=np.zeros(9),
        linear_acceleration=vector(x=0.0, y=0.0, z=9.81),
        linear_acceleration_covariance=np.zeros(9),
    )
