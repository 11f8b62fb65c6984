"""Microphone source: a sound card as perception_msgs/AudioChunk (16 kHz mono int16) on ``audio``.

Needs the ``sounddevice`` package (PortAudio); the node says so and exits when it is missing.
Parameters: the fields of ``perception.ros.options.MicrophoneSourceOptions``.
"""

from __future__ import annotations

import queue

from perception_msgs.msg import AudioChunk
from rclpy.node import Node

from perception.audio import SAMPLE_RATE
from perception.errors import PerceptionError
from perception.ros import convert
from perception.ros.options import MicrophoneSourceOptions
from perception_ros.base import AUDIO_QOS, declare_options, run_plain


def _sounddevice():
    try:
        import sounddevice
    except (ImportError, OSError) as exc:  # OSError: PortAudio library missing
        raise PerceptionError(
            f"microphone_source needs sounddevice and PortAudio ({exc}); install them with "
            "`pip install sounddevice` and `apt-get install libportaudio2`, or play a file "
            "with wav_source"
        ) from exc
    return sounddevice


class MicrophoneSource(Node):
    def __init__(self) -> None:
        super().__init__("microphone_source")
        self.o = declare_options(self, MicrophoneSourceOptions)
        sd = _sounddevice()
        self.chunks: queue.Queue = queue.Queue(maxsize=50)  # 1 s at 20 ms: bounded
        self.seq, self.done = 0, False
        self.pub = self.create_publisher(AudioChunk, "audio", AUDIO_QOS)
        self.stream = sd.InputStream(
            samplerate=SAMPLE_RATE,
            channels=1,
            dtype="int16",
            device=self.o.device or None,
            blocksize=SAMPLE_RATE * self.o.chunk_ms // 1000,
            callback=self._on_audio,
        )
        self.stream.start()
        self.create_timer(self.o.chunk_ms / 2000, self.tick)

    def _on_audio(self, data, frames, time_info, status) -> None:
        try:
            self.chunks.put_nowait(data[:, 0].copy())
        except queue.Full:  # the node is behind: drop the oldest audio, never grow
            self.get_logger().warning("microphone queue full: dropped a chunk")

    def tick(self) -> None:
        while not self.chunks.empty():
            header = convert.make_header(self.get_clock().now().to_msg(), self.o.frame_id)
            self.pub.publish(convert.samples_to_chunk(self.chunks.get_nowait(), header, self.seq))
            self.seq += 1

    def destroy_node(self) -> None:
        self.stream.stop()
        super().destroy_node()


def main() -> int:
    return run_plain(MicrophoneSource)
