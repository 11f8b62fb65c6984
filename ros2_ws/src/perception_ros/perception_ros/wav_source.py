"""Wav source: plays an audio file as perception_msgs/AudioChunk on ``audio`` (16 kHz, int16).

Parameters: the fields of ``perception.ros.options.WavSourceOptions``. Without ``loop`` the node
exits when the file ends.
"""

from __future__ import annotations

from perception_msgs.msg import AudioChunk  # noqa: F401  (fails early if messages are not built)
from rclpy.node import Node

from perception.audio import SAMPLE_RATE, load_audio
from perception.audio.io import to_pcm16
from perception.ros import convert
from perception.ros.options import WavSourceOptions
from perception_ros.base import AUDIO_QOS, declare_options, run_plain


class WavSource(Node):
    def __init__(self) -> None:
        super().__init__("wav_source")
        self.o = declare_options(self, WavSourceOptions)
        # load_audio refuses a file with NaN / inf samples (the node exits 1 with the reason)
        self.pcm = to_pcm16(load_audio(self.o.path))
        self.step = SAMPLE_RATE * self.o.chunk_ms // 1000
        self.cursor, self.seq, self.done = 0, 0, False
        self.pub = self.create_publisher(AudioChunk, "audio", AUDIO_QOS)
        self.started = self.get_clock().now()
        period_s = self.o.chunk_ms / 1000 / self.o.realtime_factor
        self.create_timer(period_s, self.tick)

    def tick(self) -> None:
        if self.o.wait_for_subscriber and self.seq == 0 and not self.pub.get_subscription_count():
            self.started = self.get_clock().now()
            return
        elapsed_s = (self.get_clock().now() - self.started).nanoseconds * 1e-9
        if elapsed_s < self.o.start_delay_s:
            return
        if self.cursor >= len(self.pcm):
            if not self.o.loop:
                self.get_logger().info(f"{self.o.path}: {self.seq} chunks sent")
                self.done = True
                return
            self.cursor = 0
        header = convert.make_header(self.get_clock().now().to_msg(), self.o.frame_id)
        chunk = self.pcm[self.cursor : self.cursor + self.step]
        self.pub.publish(convert.samples_to_chunk(chunk, header, self.seq))
        self.cursor, self.seq = self.cursor + self.step, self.seq + 1


def main() -> int:
    return run_plain(WavSource)
