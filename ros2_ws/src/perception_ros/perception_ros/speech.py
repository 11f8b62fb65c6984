"""Speech node: AudioChunk on ``audio`` → perception_msgs/Transcript on ``transcript``.

Parameters are the fields of the speech options (``asr.beam_size``, ``vad.threshold``,
``fusion``, ...) plus ``node.*``. VAD runs in the subscription (cheap, never dropped); finished
utterances go through the newest-wins slot to the recogniser.
"""

from __future__ import annotations

import time

from perception_msgs.msg import AudioChunk, Transcript

from perception.ros import convert, pipeline
from perception_ros.base import AUDIO_QOS, ModelNode, spin


class SpeechNode(ModelNode):
    options_class = pipeline.speech_options_class()

    def load(self, options):
        return pipeline.SpeechPipeline(options)  # swap the model here

    def make_io(self) -> None:
        self.pub = self.add_publisher(Transcript, "transcript")
        self.add_subscription(AudioChunk, "audio", self.on_chunk, AUDIO_QOS)

    def on_chunk(self, msg: AudioChunk) -> None:
        if self.model is None or not self._active():
            return
        try:
            samples = convert.chunk_to_samples(msg)
        except convert.FrameError as exc:
            self.stats.on_failed()
            self.get_logger().warning(f"skipped a chunk: {exc}", throttle_duration_sec=2.0)
            return
        for utterance in self.model.segmenter.feed(samples):
            self.offer((utterance, msg.header, time.perf_counter()))

    def process(self, item) -> None:
        utterance, header, ended = item
        transcript = self.model.recognizer.recognize(utterance)
        latency_ms = (time.perf_counter() - ended) * 1e3
        self.pub.publish(convert.transcript_to_msg(transcript, header, latency_ms))


def main() -> int:
    return spin(SpeechNode, "speech")
