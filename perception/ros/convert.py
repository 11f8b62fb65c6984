"""Conversions between ROS messages and the library's arrays and result types.

Owns the pure functions the nodes and the bag tools call: images to (H, W, 3) RGB arrays and
back, audio chunks to samples, text regions and transcripts to messages and back. Readers are
duck-typed, so they accept rclpy messages and rosbags' decoded messages alike; builders import the
generated ``perception_msgs`` / ``sensor_msgs`` types lazily. Nothing here spins a node.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from perception.audio import SAMPLE_RATE
from perception.errors import PerceptionError
from perception.speech.types import Hypothesis, Transcript
from perception.vision.types import TextRegion

# channels and whether the byte order is BGR, per sensor_msgs/Image encoding we accept
_ENCODINGS = {
    "rgb8": (3, False),
    "bgr8": (3, True),
    "rgba8": (4, False),
    "bgra8": (4, True),
    "mono8": (1, False),
}


class FrameError(PerceptionError):
    """A message cannot be turned into the array the pipeline expects (and is skipped)."""


def image_to_rgb(msg: Any) -> np.ndarray:
    """A sensor_msgs/Image as an (H, W, 3) uint8 RGB array (a copy for BGR/alpha/mono inputs).

    Raises:
        FrameError: for an unsupported encoding or a data size that does not match the header.
    """
    encoding = str(msg.encoding).lower()
    if encoding not in _ENCODINGS:
        raise FrameError(
            f"image encoding {msg.encoding!r} is not supported; expected one of "
            f"{', '.join(_ENCODINGS)} (convert the camera output to rgb8)"
        )
    channels, bgr = _ENCODINGS[encoding]
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    data = np.frombuffer(msg.data, np.uint8)
    if h <= 0 or w <= 0 or step < w * channels or data.size < step * h:
        raise FrameError(
            f"corrupt image: {w}x{h} {encoding} needs step >= {w * channels} and "
            f"{step * h} bytes, got step {step} and {data.size} bytes"
        )
    pixels = data[: step * h].reshape(h, step)[:, : w * channels].reshape(h, w, channels)
    if channels == 1:
        return np.repeat(pixels, 3, axis=2)
    rgb = pixels[:, :, :3]
    return np.ascontiguousarray(rgb[:, :, ::-1] if bgr else rgb)


def rgb_to_image(rgb: np.ndarray, header: Any) -> Any:
    """An rclpy sensor_msgs/Image (rgb8) from an (H, W, 3) uint8 array; header copied."""
    from sensor_msgs.msg import Image

    h, w, _ = rgb.shape
    # bytes, not the array: assigning an ndarray to a uint8[] field costs ~70x more (ROS2_NOTES)
    return Image(
        header=header,
        height=h,
        width=w,
        encoding="rgb8",
        is_bigendian=0,
        step=w * 3,
        data=np.ascontiguousarray(rgb, np.uint8).tobytes(),
    )


def chunk_to_samples(msg: Any) -> np.ndarray:
    """A perception_msgs/AudioChunk as mono int16 samples at 16 kHz, shape (N,).

    Raises:
        FrameError: for a sampling rate other than 16 kHz or samples not divisible by channels.
    """
    if int(msg.sample_rate_hz) != SAMPLE_RATE:
        raise FrameError(
            f"audio chunk at {msg.sample_rate_hz} Hz; the speech pipeline expects {SAMPLE_RATE} "
            "Hz (resample in the source node)"
        )
    samples = np.asarray(msg.samples, dtype=np.int16)
    channels = max(int(msg.channels), 1)
    if samples.size % channels:
        raise FrameError(
            f"audio chunk has {samples.size} samples, not a multiple of {channels} channels"
        )
    if channels == 1:
        return samples
    return samples.reshape(-1, channels).mean(axis=1).astype(np.int16)


def samples_to_chunk(samples: np.ndarray, header: Any, sequence: int) -> Any:
    """An rclpy perception_msgs/AudioChunk from mono int16 samples at 16 kHz, shape (N,)."""
    import array

    from perception_msgs.msg import AudioChunk

    pcm = array.array("h", np.ascontiguousarray(samples, np.int16).tobytes())
    return AudioChunk(
        header=header, sample_rate_hz=SAMPLE_RATE, channels=1, samples=pcm, sequence=sequence
    )


def regions_to_msg(
    regions: list[TextRegion],
    header: Any,
    size_px: tuple[int, int],
    latency_ms: float,
    model_id: str,
) -> Any:
    """An rclpy perception_msgs/TextRegions; ``size_px`` is (width, height) of the image."""
    from perception_msgs.msg import TextRegion as RegionMsg
    from perception_msgs.msg import TextRegions

    items = [
        RegionMsg(
            polygon_x_px=[float(x) for x, _ in r.polygon_px],
            polygon_y_px=[float(y) for _, y in r.polygon_px],
            score=float(r.score),
            language=r.language,
            language_score=float(r.language_score),
            text=r.text,
        )
        for r in regions
    ]
    return TextRegions(
        header=header,
        regions=items,
        image_width_px=size_px[0],
        image_height_px=size_px[1],
        latency_ms=float(latency_ms),
        model_id=model_id,
    )


def msg_to_regions(msg: Any) -> list[TextRegion]:
    """The library's regions from a TextRegions message (rclpy or rosbags)."""
    return [
        TextRegion(
            polygon_px=tuple(
                zip(map(float, r.polygon_x_px), map(float, r.polygon_y_px), strict=True)
            ),
            score=float(r.score),
            language=r.language,
            language_score=float(r.language_score),
            text=r.text,
        )
        for r in msg.regions
    ]


def transcript_to_msg(t: Transcript, header: Any, latency_ms: float, is_final: bool = True) -> Any:
    """An rclpy perception_msgs/Transcript; the header is the input chunk's."""
    from perception_msgs.msg import Hypothesis as HypMsg
    from perception_msgs.msg import StageTiming
    from perception_msgs.msg import Transcript as TranscriptMsg

    return TranscriptMsg(
        header=header,
        text=t.text,
        fusion=t.fusion,
        language=t.language,
        nbest=[HypMsg(text=h.text, avg_logprob=float(h.avg_logprob)) for h in t.nbest],
        start_s=float(t.start_s),
        end_s=float(t.end_s),
        no_speech_prob=float(t.no_speech_prob),
        timings=[StageTiming(stage=k, duration_ms=float(v)) for k, v in t.timings_ms.items()],
        model_ids=list(t.model_ids),
        is_final=is_final,
        latency_ms=float(latency_ms),
    )


def msg_to_transcript(msg: Any) -> Transcript:
    """The library's transcript from a Transcript message (rclpy or rosbags)."""
    return Transcript(
        text=msg.text,
        fusion=msg.fusion,
        language=msg.language,
        nbest=tuple(Hypothesis(h.text, float(h.avg_logprob)) for h in msg.nbest),
        start_s=float(msg.start_s),
        end_s=float(msg.end_s),
        no_speech_prob=float(msg.no_speech_prob),
        timings_ms={s.stage: float(s.duration_ms) for s in msg.timings},
        model_ids=tuple(msg.model_ids),
    )


def stamp_s(header: Any) -> float:
    """A header's stamp in seconds."""
    return int(header.stamp.sec) + int(header.stamp.nanosec) * 1e-9


def make_header(stamp: Any, frame_id: str) -> Any:
    """An rclpy std_msgs/Header (``stamp`` a builtin_interfaces/Time)."""
    from std_msgs.msg import Header

    return Header(stamp=stamp, frame_id=frame_id)


def stamp_ns(header: Any) -> int:
    """A header's stamp in integer nanoseconds (exact, unlike a float of seconds)."""
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)
