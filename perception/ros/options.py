"""Options of the ROS nodes themselves (not of the models they hold), as frozen dataclasses.

Owns the defaults of every node parameter that is not a model option: topics are remapped, not
configured. The model options come from the speech and vision option classes.
"""

from __future__ import annotations

from dataclasses import dataclass

from perception.config import check


@dataclass(frozen=True)
class NodeOptions:
    """Shared by the model nodes (parameters ``node.*``)."""

    autostart: bool = True  # configure and activate at start (a lifecycle manager may instead)
    diagnostics_period_s: float = 1.0
    publish_annotated: bool = False  # text detector: also publish the frame with polygons drawn
    queue_size: int = 16  # speech: finished utterances waiting for the recogniser (FIFO)
    stream_idle_s: float = 1.0  # speech: no audio for this long ends the utterance in progress
    # input types (the topics are remapped): text detector sensor_msgs/msg/Image or
    # sensor_msgs/msg/CompressedImage; speech perception_msgs/msg/AudioChunk or
    # audio_common_msgs/msg/AudioStamped (checked in configure, perception.ros.inputs)
    image_type: str = "sensor_msgs/msg/Image"
    audio_type: str = "perception_msgs/msg/AudioChunk"

    def __post_init__(self) -> None:
        check(
            self.diagnostics_period_s > 0,
            f"diagnostics_period_s must be > 0, got {self.diagnostics_period_s}",
        )
        check(self.queue_size >= 1, f"queue_size must be >= 1, got {self.queue_size}")
        check(self.stream_idle_s > 0, f"stream_idle_s must be > 0, got {self.stream_idle_s}")


@dataclass(frozen=True)
class WavSourceOptions:
    path: str = ""
    chunk_ms: int = 20
    loop: bool = False
    realtime_factor: float = 1.0  # 2.0 plays twice as fast as real time
    frame_id: str = "mic"
    start_delay_s: float = 1.0  # lets subscribers discover the publisher first
    wait_for_subscriber: bool = True  # start playing once a subscriber is matched

    def __post_init__(self) -> None:
        check(5 <= self.chunk_ms <= 1000, f"chunk_ms must be in [5, 1000], got {self.chunk_ms}")
        check(self.realtime_factor > 0, f"realtime_factor must be > 0, got {self.realtime_factor}")


@dataclass(frozen=True)
class ImageFolderSourceOptions:
    path: str = ""
    rate_hz: float = 2.0
    loop: bool = True
    frame_id: str = "camera"
    start_delay_s: float = 1.0

    def __post_init__(self) -> None:
        check(0 < self.rate_hz <= 120, f"rate_hz must be in (0, 120], got {self.rate_hz}")


@dataclass(frozen=True)
class CameraSourceOptions:
    device: int = 0  # OpenCV VideoCapture index (/dev/videoN)
    rate_hz: float = 15.0
    frame_id: str = "camera"

    def __post_init__(self) -> None:
        check(0 < self.rate_hz <= 120, f"rate_hz must be in (0, 120], got {self.rate_hz}")


@dataclass(frozen=True)
class MicrophoneSourceOptions:
    device: str = ""  # sounddevice input name or index; empty = the system default
    chunk_ms: int = 20
    frame_id: str = "mic"


@dataclass(frozen=True)
class BagPlayerOptions:
    path: str = ""
    rate: float = 1.0  # playback speed relative to the recording
    loop: bool = False
    topics: tuple[str, ...] = ()  # empty = every topic in the bag
    wait_for_subscribers: bool = True  # play once a played topic has a subscriber ...
    settle_s: float = 1.0  # ... and this long after, so that the other subscribers match too
    linger_s: float = 0.0  # stay up this long after the bag ends (downstream nodes finish)

    def __post_init__(self) -> None:
        check(self.rate > 0, f"rate must be > 0, got {self.rate}")
