import numpy as np

from perception.audio import SAMPLE_RATE
from perception.audio.tts import synthesize


def test_espeak_renders_speech_at_16k():
    audio = synthesize("go to the door", voice="en-us", speed_wpm=160)
    assert audio.dtype == np.float32
    assert 0.5 < len(audio) / SAMPLE_RATE < 3.0
    assert np.abs(audio).max() > 0.05
