"""The recogniser on real faces (face_detector mtcnn), with stub detector and Whisper: the lips
never vote, the speaker box is the synchronous face's, and no face means no speaker."""

import numpy as np
import pytest

from perception.avsr.api import AvRecognizer, Temperatures
from perception.avsr.options import AvOptions
from perception.avsr.realface import FaceDetection
from perception.avsr.synchrony import SyncCalibration


def _face(x: float) -> FaceDetection:
    marks = np.array([[x + 10, 30], [x + 30, 30], [x + 20, 40], [x + 12, 50], [x + 28, 50]])
    return FaceDetection((x, 10.0, x + 40, 60.0), marks.astype(np.float32), 0.99)


class _Detector:
    def __init__(self, faces):
        self.faces = faces

    def detect(self, frames):
        return [list(self.faces) for _ in frames]


class _Vad:
    def reset(self):
        pass

    def __call__(self, frame):
        return 0.9


class _Acoustic:
    def encode(self, audio):
        return "features"


def _recognizer(faces, calls) -> AvRecognizer:
    av = AvRecognizer.__new__(AvRecognizer)
    av.options, av.acoustic, av.vad = AvOptions(), _Acoustic(), _Vad()
    av.t, av.detector = Temperatures(), _Detector(faces)
    av.sync = SyncCalibration((10.0, 0.0), -2.0)

    def transcribe(features, out, fusion):
        calls.append((out, fusion))
        return "bin blue at f two now"

    av.transcribe = transcribe
    return av


def _talking(n: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Frames whose left face's mouth opens and closes with the sound; the right one is still."""
    rng = np.random.default_rng(0)
    frames = np.full((n, 80, 160, 3), 180, np.uint8)
    audio = np.zeros(n * 640, np.float32)
    for t in range(n):
        o = float(rng.random() > 0.5)
        frames[t, 43 : 43 + int(1 + 6 * o), 24:36] = int(180 - 140 * o)
        audio[t * 640 : (t + 1) * 640] = 0.3 * o + 0.001
    return frames, audio


def test_lips_never_vote_on_real_faces_and_the_synchronous_face_is_the_speaker():
    calls = []
    av = _recognizer([_face(0), _face(100)], calls)
    frames, audio = _talking()
    r = av.recognize(audio, frames, np.arange(len(frames)) / 25.0, 0.0)
    assert calls == [(None, "audio")] and r.fusion == "audio"
    assert r.text == "bin blue at f two now" and r.faces_per_frame == (2,) * len(frames)
    assert r.face_probs[0] > 0.5 > r.face_probs[1]
    assert r.speaker_box is not None and r.speaker_box[0] == pytest.approx(0.0)


def test_no_face_means_no_speaker_box_and_the_audio_still_writes():
    calls = []
    av = _recognizer([], calls)
    frames, audio = _talking(20)
    r = av.recognize(audio, frames, np.arange(20) / 25.0, 0.0)
    assert r.speaker_box is None and r.gate.face == 0.0 and r.face_probs == ()
    assert r.faces_per_frame == (0,) * 20 and calls == [(None, "audio")]


def test_face_detector_option_is_checked():
    with pytest.raises(ValueError, match="face_detector"):
        AvOptions(face_detector="haar")
