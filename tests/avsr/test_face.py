import numpy as np
import pytest

from perception.audio.tts import synthesize_timed
from perception.avsr.face import VISEMES, draw_style, mouth_track, render_frame, viseme
from perception.avsr.frontend import CROP, mouth_crop


def test_visemes_of_lip_sounds():
    assert viseme("p") == viseme("m") == "closed"
    assert viseme("f") == "labiodental"
    assert viseme("u:") == "round"
    assert viseme("a") == "open"
    assert viseme("_:") == "rest"


def test_timed_speech_has_words_and_increasing_phonemes():
    s = synthesize_timed("Bring the red box to the kitchen.", "en-us", 170)
    assert [w for _, w in s.words] == ["Bring", "the", "red", "box", "to", "the", "kitchen"]
    starts = [t for t, _ in s.phonemes]
    assert starts == sorted(starts) and starts[-1] <= s.duration_s + 1e-6
    assert 1.0 < s.duration_s < 3.0 and s.audio.dtype == np.float32


def test_mouth_closes_for_p_and_opens_for_a():
    phonemes = ((0.0, "_"), (0.2, "p"), (0.4, "a"), (0.7, "_"))
    shapes = mouth_track(phonemes, 1.0, np.array([0.1, 0.3, 0.55, 0.9]))
    assert shapes[1, 0] < 0.1  # closed lips at p
    assert shapes[2, 0] > 0.8  # open at a
    assert shapes[3, 0] == pytest.approx(VISEMES["rest"][0], abs=0.05)


def test_landmarks_point_at_the_mouth():
    rng = np.random.default_rng(3)
    style = draw_style(rng)
    frame, marks = render_frame(style, np.array([0.9, 0.6, 0.0]), 0.5)
    assert frame.shape == (128, 128, 3) and frame.dtype == np.uint8
    crop = mouth_crop(frame, marks.array())
    assert crop.shape == (CROP, CROP)
    centre = crop[12:20, 12:20].astype(float).mean()
    assert centre < crop.astype(float).mean()  # the open mouth is the dark middle of the crop
