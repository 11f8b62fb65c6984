"""Speech node: audio messages on ``audio`` → perception_msgs/Transcript on ``transcript``.

Parameters are the fields of the speech options (``asr.beam_size``, ``vad.threshold``,
``fusion``, ``context.phrases``, ...) plus ``node.*``; the service ``~/set_context``
(perception_msgs/SetContext) replaces the expected phrases at run time.
``node.audio_type`` is the input type: perception_msgs/AudioChunk or
audio_common_msgs/AudioStamped (mgonzs13's, as whisper_ros and audio_common's capture node
publish it; any PyAudio format, rate and channel count: resampled to 16 kHz mono
by :class:`perception.ros.inputs.AudioStream`). The node runs
:class:`perception.ros.pipeline.SpeechPipeline` in two halves: VAD in the subscription (cheap,
never dropped), recognition in the worker. Finished utterances wait in a bounded FIFO
(``node.queue_size``); an overflow drops the oldest, is logged and counted on /diagnostics. The
utterance in progress is ended when the audio stops for ``node.stream_idle_s`` (end of a
stream) and when the node is deactivated, so no command is lost silently.

With ``av.enabled`` the node also subscribes to ``face_image`` (type ``node.image_type``), the
camera on the person who talks to the robot: frames are paired with the audio by header stamps
and each transcript carries the audio-visual text, P(the face on camera said it) and the face's
box (``av.gate: on-camera`` empties the text of speech the face did not say).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from perception_msgs.msg import Transcript
from perception_msgs.srv import SetContext

from perception.errors import one_line
from perception.ros import convert, pipeline
from perception.ros.convert import stamp_s
from perception.ros.flow import BoundedFifo
from perception.ros.inputs import (
    IMAGE_CONVERTERS,
    LIVE_AUDIO_TYPES,
    LIVE_IMAGE_TYPES,
    AudioStream,
    check_live_type,
    rclpy_class,
)
from perception_ros.base import AUDIO_QOS, SENSOR_QOS, ModelNode, spin

DRAIN_TIMEOUT_S = 60.0  # deactivation waits this long for queued utterances


class SpeechNode(ModelNode):
    options_class = pipeline.speech_options_class()

    def __init__(self, name: str, **kwargs) -> None:
        # audio messages counted one by one for /diagnostics (the base counts utterances)
        keys = ("chunks_received", "chunks_processed", "chunks_failed", "chunks_dropped")
        keys += ("faces_received", "faces_failed")
        self.chunks = Counter(dict.fromkeys(keys, 0))
        self._count_lock = threading.Lock()  # callbacks run on two executor threads
        super().__init__(name, **kwargs)

    def _count(self, key: str) -> None:
        with self._count_lock:
            self.chunks[key] += 1

    def load(self, options):
        audio_type = check_live_type(self.node_options.audio_type, LIVE_AUDIO_TYPES, "audio_type")
        self.input_class, self.audio_in = rclpy_class(audio_type), AudioStream(audio_type)
        self.face_type = ""
        if options.av.enabled:
            self.face_type = check_live_type(
                self.node_options.image_type, LIVE_IMAGE_TYPES, "image_type"
            )
        return pipeline.SpeechPipeline(options)  # swap the model here

    def extra_diagnostics(self) -> dict[str, object]:
        """Audio messages counted one by one (the base counts utterances), and where Whisper
        runs: onnxruntime's providers, or torch and its device."""
        with self._count_lock:
            out: dict[str, object] = dict(self.chunks)
        if self.model is not None:
            out["asr.providers"] = ", ".join(self.model.recognizer.providers)
        return out

    def make_queue(self) -> BoundedFifo:
        return BoundedFifo(self.node_options.queue_size)

    def make_io(self) -> None:
        self.pub = self.add_publisher(Transcript, "transcript")
        self.add_service(SetContext, "~/set_context", self.on_set_context)
        self.add_subscription(self.input_class, "audio", self.on_chunk, AUDIO_QOS)
        if self.face_type:
            self.add_subscription(
                rclpy_class(self.face_type), "face_image", self.on_face, SENSOR_QOS
            )
        self._last_chunk = time.monotonic()
        self._header = None
        self._vad_lock = threading.Lock()  # the subscription and the idle timer share the VAD
        self._idle_timer = self.create_timer(0.1, self._end_idle_stream)

    def on_set_context(self, request, response):
        """New expected phrases for the utterances recognised from now on."""
        if self.model is None:
            response.success, response.message = False, "the node is not configured"
            return response
        response.phrases = list(self.model.recognizer.set_context(request.phrases))
        response.success = True
        self.get_logger().info(f"context: {len(response.phrases)} phrases")
        return response

    def on_chunk(self, msg) -> None:
        self._count("chunks_received")
        if self.model is None or not self._active():
            self._count("chunks_dropped")  # not active: nothing listens to it
            return
        with self._vad_lock:
            try:
                samples = self.audio_in.feed(msg)
                self._last_chunk, self._header = time.monotonic(), msg.header
                utterances = self.model.cut(samples, stamp_s(msg.header))
            except Exception as exc:  # one bad chunk never stops the stream: counted, logged
                self.stats.on_failed()
                self._count("chunks_failed")
                self.get_logger().warning(
                    f"skipped a chunk: {one_line(exc)}", throttle_duration_sec=2.0
                )
                return
            self._count("chunks_processed")
        for utterance in utterances:
            self._queue(utterance, msg.header)

    def on_face(self, msg) -> None:
        """A frame of the face camera into the AV frame buffer (a bad frame is counted)."""
        self._count("faces_received")
        if self.model is None or not self._active():
            return
        try:
            rgb = IMAGE_CONVERTERS[self.face_type](msg)
            self.model.add_frame(stamp_s(msg.header), rgb[..., ::-1].copy())
        except Exception as exc:  # a corrupt frame never stops the node
            self._count("faces_failed")
            self.get_logger().warning(
                f"skipped a face frame: {one_line(exc)}", throttle_duration_sec=2.0
            )

    def _queue(self, utterance, header, active_only: bool = True) -> None:
        if self.offer((utterance, header, time.perf_counter()), active_only):
            self.get_logger().warning(
                f"utterance queue full ({self.node_options.queue_size}): dropped the oldest "
                "waiting utterance; the recogniser is slower than the speech",
                throttle_duration_sec=2.0,
            )

    def _end_stream(self) -> list:
        """The resampler's last samples, then the utterance in progress (call with the lock)."""
        return self.model.cut(self.audio_in.flush()) + self.model.end()

    def _end_idle_stream(self) -> None:
        """The audio stopped mid-utterance (a stream ended): recognise what was heard."""
        if self.model is None:
            return
        with self._vad_lock:
            idle = time.monotonic() - self._last_chunk > self.node_options.stream_idle_s
            utterances = self._end_stream() if idle and self.model.in_speech else []
        for utterance in utterances:
            self._queue(utterance, self._header)

    def on_deactivate(self, state):
        """End the utterance in progress and publish every queued one before deactivating."""
        if self.model is not None and self.slot is not None:
            with self._vad_lock:
                utterances = self._end_stream()
            for utterance in utterances:
                self._queue(utterance, self._header, active_only=False)
            if not self.slot.join(DRAIN_TIMEOUT_S):
                self.get_logger().error(
                    f"deactivate: {len(self.slot)} utterances still queued after "
                    f"{DRAIN_TIMEOUT_S:.0f} s"
                )
        return super().on_deactivate(state)

    def on_cleanup(self, state):
        if getattr(self, "_idle_timer", None) is not None:
            self.destroy_timer(self._idle_timer)
            self._idle_timer = None
        return super().on_cleanup(state)

    def process(self, item) -> None:
        utterance, header, ended = item
        transcript = self.model.recognize(utterance)
        latency_ms = (time.perf_counter() - ended) * 1e3
        self.pub.publish(convert.transcript_to_msg(transcript, header, latency_ms))


def main() -> int:
    return spin(SpeechNode, "speech")
