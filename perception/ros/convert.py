"""Conversions between ROS messages and the library's arrays and result types.

Owns the pure functions the nodes and the bag tools call to build messages (RGB arrays to
images, samples to audio chunks) and to read results back (text regions, transcripts), and
:class:`FrameError`. Sensor messages to arrays live beside it (:mod:`.images`, :mod:`.audio`,
chosen by type in :mod:`.inputs`). Readers are duck-typed, so they accept rclpy messages and
rosbags' decoded messages alike; builders import the generated ``perception_msgs`` /
``sensor_msgs`` types lazily. Nothing here spins a node.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from perception.audio import SAMPLE_RATE
from perception.errors import PerceptionError
from perception.speech.types import Hypothesis, Transcript
from perception.vision.types import TextRegion


class FrameError(PerceptionError):
    """A message cannot be turned into the array the pipeline expects (and is skipped)."""


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
            text_score=float(r.text_score),
            reader=r.reader,
            mode=r.mode,
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
            text_score=float(getattr(r, "text_score", 0.0)),
            reader=getattr(r, "reader", ""),
            mode=getattr(r, "mode", "") or "detect",
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
        language_prob=float(t.language_prob),
        nbest=[HypMsg(text=h.text, avg_logprob=float(h.avg_logprob)) for h in t.nbest],
        start_s=float(t.start_s),
        end_s=float(t.end_s),
        no_speech_prob=float(t.no_speech_prob),
        timings=[StageTiming(stage=k, duration_ms=float(v)) for k, v in t.timings_ms.items()],
        model_ids=list(t.model_ids),
        is_final=is_final,
        latency_ms=float(latency_ms),
        av_text=t.av_text,
        speaker_prob=float(t.speaker_prob),
        speaker_box=[float(v) for v in t.speaker_box or ()],
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
        # absent from bags recorded before the audio-visual fields existed
        av_text=getattr(msg, "av_text", ""),
        speaker_prob=float(getattr(msg, "speaker_prob", -1.0)),
        speaker_box=_box(getattr(msg, "speaker_box", ())),
        language_prob=float(getattr(msg, "language_prob", 1.0)),  # absent from older bags
    )


def _box(values) -> tuple[float, float, float, float] | None:
    v = [float(x) for x in values]
    return (v[0], v[1], v[2], v[3]) if len(v) == 4 else None


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
