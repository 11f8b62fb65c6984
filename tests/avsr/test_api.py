"""The AV stream's pairing of frames with utterances, and the gate's scores (stub recogniser:
the models are tested elsewhere)."""

import dataclasses

import numpy as np

from perception.avsr.api import AvResult, AvStream, GateScores, face_score
from perception.avsr.options import AvOptions
from perception.speech.types import Transcript, Utterance


class _Stub:
    def __init__(self, user: float, gate: str = "audio") -> None:
        self.options = AvOptions(gate=gate)
        self.user, self.calls = user, []

    def recognize(self, audio, frames, stamps, start_s):
        self.calls.append((len(audio), frames.shape[0], float(stamps[0]), start_s))
        g = GateScores(0.9, self.user / 0.9, self.user)
        ok = g.accepted(self.options.gate)
        return AvResult("go to the garage" if ok else "", "av-uadf", g, ok, (1, 2, 3, 4), {})


def _transcript(start: float, end: float) -> Transcript:
    return Transcript("go to the garage", (), "none", "en", start, end, 0.0, {}, ("w",))


def test_frames_covering_the_utterance_are_found_by_the_chunk_clock():
    stub = _Stub(0.8)
    av = AvStream(stub)
    for i in range(100):  # 4 s of frames at 25 Hz from header time 1000 s
        av.on_frame(1000.0 + i * 0.04, np.zeros((8, 8, 3), np.uint8))
    av.on_audio(16000, 1000.5)  # the stream starts at header time 1000.5
    av.on_audio(16000, 1001.5)
    u = Utterance(np.zeros(8000, np.float32), 1.0, 1.5)
    t = av.annotate(_transcript(1.0, 1.5), u)
    (call,) = stub.calls
    assert call[3] == 1001.5 and abs(call[2] - (1001.5 - 0.2)) < 0.041
    assert t.av_text == "go to the garage" and t.speaker_prob == 0.8
    assert t.speaker_box == (1, 2, 3, 4) and t.text == "go to the garage"


def test_no_frames_leaves_the_transcript_alone_and_on_camera_gate_empties_the_text():
    stub = _Stub(0.1, gate="on-camera")
    av = AvStream(stub)
    av.on_audio(16000, 50.0)
    u = Utterance(np.zeros(8000, np.float32), 0.2, 0.7)
    plain = _transcript(0.2, 0.7)
    assert av.annotate(plain, u) == plain  # the camera never sent a frame
    for i in range(40):
        av.on_frame(50.0 + i * 0.04, np.zeros((8, 8, 3), np.uint8))
    t = av.annotate(plain, u)
    assert t.text == "" and t.guard.startswith("ignored") and t.speaker_prob == 0.1
    assert (
        dataclasses.replace(
            t,
            text=plain.text,
            guard="",
            av_text="",
            speaker_prob=-1.0,
            speaker_box=None,
            timings_ms={},
        )
        == plain
    )


def test_face_score_reads_the_activity_where_silero_hears_speech():
    times = np.arange(0, 2, 0.04)
    activity = (times > 1).astype(float)  # the face speaks in the second half
    vad = np.zeros(62)
    vad[35:60] = 0.9  # Silero hears speech from 1.12 s
    assert face_score(activity, times, vad) > 0.9
    vad[:] = 0
    vad[5:25] = 0.9  # speech in the first half: the face was silent then
    assert face_score(activity, times, vad) < 0.1
