import numpy as np
import pytest

from perception.audio import SAMPLE_RATE, load_audio
from perception.eval.wer import count_errors
from perception.speech.api import SpeechOptions, SpeechRecognizer, transcribe_audio
from tests.conftest import SAMPLE_TEXT, SAMPLE_WAV

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def recognizer(store):
    return SpeechRecognizer(SpeechOptions(), store)


def test_bundled_clip_gives_the_spoken_words(recognizer, store):
    transcripts = transcribe_audio(recognizer, load_audio(SAMPLE_WAV), store)
    text = " ".join(t.text for t in transcripts)
    assert count_errors(SAMPLE_TEXT, text).edits == 0, text
    times = [(t.start_s, t.end_s) for t in transcripts]
    assert times == sorted(times) and all(a < b for a, b in times)
    assert all(t.fusion == "none" and t.nbest and t.language == "en" for t in transcripts)


def test_silence_never_reaches_whisper(recognizer, store, monkeypatch):
    calls = []
    monkeypatch.setattr(recognizer, "decode", lambda audio: calls.append(audio))
    noise = 0.005 * np.random.default_rng(0).standard_normal(3 * SAMPLE_RATE)
    assert transcribe_audio(recognizer, noise.astype(np.float32), store) == []
    assert calls == []


def test_a_language_the_corrector_is_not_fit_for_keeps_whispers_text():
    from types import SimpleNamespace

    rec = SpeechRecognizer.__new__(SpeechRecognizer)  # no models: fuse stops before the LLM
    rec.options = SpeechOptions(fusion="uadf")
    rec.corrector = rec.fused = None

    def decoded(language: str):
        hyp = SimpleNamespace(text="Halte an der Tür.")
        return SimpleNamespace(nbest=[hyp], features=SimpleNamespace(language=language))

    fused = rec.fuse(decoded("de"), "uadf")
    assert fused.text == "Halte an der Tür." and fused.llm_text == ""
    assert fused.guard.startswith("no corrector for language 'de'")
    with pytest.raises(RuntimeError, match="needs the LLM"):  # English goes on to the LLM
        rec.fuse(decoded("en"), "uadf")
