import re

import pytest

from perception.audio import load_audio
from perception.errors import ConfigError
from perception.speech.whisper_backend import WhisperOptions, WhisperTranscriber
from tests.conftest import SAMPLE_TEXT, SAMPLE_WAV


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def test_options_are_checked():
    with pytest.raises(ConfigError, match="beam_size"):
        WhisperOptions(beam_size=0)


@pytest.mark.model
def test_bundled_clip_gives_the_spoken_words(store):
    transcriber = WhisperTranscriber(WhisperOptions(device="cpu"), store)
    audio = load_audio(SAMPLE_WAV)
    result = transcriber.transcribe(audio)
    assert _words(result.text) == _words(SAMPLE_TEXT)
    assert result.language == "en" and result.device == "cpu"
    assert result.segments and all(0 <= s.start_s < s.end_s for s in result.segments)
    assert result.segments[-1].end_s <= result.audio_duration_s + 0.5
