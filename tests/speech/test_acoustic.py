"""Whisper N-best and scoring. The multilingual plumbing runs on a tiny random checkpoint."""

import numpy as np
import pytest
from whisper.model import ModelDimensions, Whisper

from perception.audio import load_audio
from perception.speech.acoustic import AcousticModel
from perception.speech.whisper_backend import load_whisper
from tests.conftest import SAMPLE_TEXT, SAMPLE_WAV
from tests.whisper_models import seeded_whisper

TINY_MULTILINGUAL = ModelDimensions(
    n_mels=80,
    n_audio_ctx=1500,
    n_audio_state=32,
    n_audio_head=2,
    n_audio_layer=1,
    n_vocab=51865,
    n_text_ctx=64,
    n_text_state=32,
    n_text_head=2,
    n_text_layer=1,
)


def random_multilingual_whisper() -> Whisper:
    return seeded_whisper(TINY_MULTILINGUAL)


def test_multilingual_plumbing_uses_the_language_token():
    am = AcousticModel(random_multilingual_whisper(), language="de")
    assert am.tokenizer.decode([am.prompt[1]]) == "<|de|>"
    features = am.encode(np.random.default_rng(0).standard_normal(32000).astype(np.float32) * 0.1)
    assert features.language == "de" and features.n_frames == 500  # 10 s window, trimmed
    nbest = am.beam_search(features, beam_size=3, max_tokens=6)
    assert 1 <= len(nbest) <= 3
    assert all(len(h.token_logprobs) == len(h.tokens) <= 6 for h in nbest)
    assert all(np.isfinite(h.sum_logprob) for h in nbest)
    scored = am.sequence_logprobs(features, [list(h.tokens) for h in nbest])
    assert [len(s) for s in scored] == [len(h.tokens) for h in nbest]


@pytest.mark.model
def test_nbest_best_matches_whisper_beam_search(store):
    import whisper

    model = load_whisper(store.resolve("whisper-tiny.en"))
    audio = load_audio(SAMPLE_WAV)
    am = AcousticModel(model, window_s=30.0)
    nbest = am.beam_search(am.encode(audio), beam_size=5)
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio))
    reference = whisper.decode(
        model,
        mel,
        whisper.DecodingOptions(language="en", beam_size=5, without_timestamps=True, fp16=False),
    )
    assert reference.text.strip() in [h.text for h in nbest][:2]
    assert len({h.text for h in nbest}) == len(nbest) >= 3
    ranks = [h.avg_logprob for h in nbest]
    assert ranks == sorted(ranks, reverse=True)


@pytest.mark.model
def test_trimmed_encoder_still_hears_the_command(store):
    am = AcousticModel(load_whisper(store.resolve("whisper-tiny.en")), window_s=10.0)
    features = am.encode(load_audio(SAMPLE_WAV))
    assert features.n_frames == 500  # 10 s minimum window of 20 ms encoder positions
    best = am.beam_search(features, beam_size=5)[0].text.lower()
    assert "charging station" in best and "turn left" in best, (best, SAMPLE_TEXT)
