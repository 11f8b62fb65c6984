import numpy as np
import pytest

from perception.audio import SAMPLE_RATE
from perception.audio.tts import synthesize
from perception.errors import ConfigError
from perception.speech.vad import StreamSegmenter, VadOptions, segment

pytestmark = pytest.mark.model  # real Silero VAD weights from the store


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.float32)


def test_two_commands_in_a_stream_become_two_padded_utterances(store):
    a, b = synthesize("go to the kitchen"), synthesize("stop right there", voice="en-gb")
    stream = np.concatenate([_silence(1.0), a, _silence(1.5), b, _silence(0.8)])
    rng = np.random.default_rng(0)
    stream += 0.003 * rng.standard_normal(len(stream)).astype(np.float32)
    segmenter = StreamSegmenter(VadOptions(pad_ms=200), store)
    pcm = (np.clip(stream, -1, 1) * 32767).astype(np.int16)  # as a microphone node sends it
    utterances = []
    for i in range(0, len(pcm), 320):  # 20 ms chunks
        utterances += segmenter.feed(pcm[i : i + 320])
    utterances += segmenter.flush()
    assert len(utterances) == 2
    starts = [1.0, 1.0 + len(a) / SAMPLE_RATE + 1.5]
    for u, start in zip(utterances, starts, strict=True):
        assert start - 0.45 <= u.start_s <= start + 0.2  # speech onset minus padding
        assert abs(len(u.audio) / SAMPLE_RATE - (u.end_s - u.start_s)) < 1e-6
    assert utterances[0].end_s < utterances[1].start_s


def test_silence_and_noise_give_no_utterance(store):
    rng = np.random.default_rng(1)
    noise = 0.01 * rng.standard_normal(3 * SAMPLE_RATE).astype(np.float32)
    assert segment(noise, VadOptions(), store) == []
    assert segment(_silence(2.0), VadOptions(), store) == []


def test_long_speech_is_cut_at_max_utterance(store):
    speech = np.concatenate([synthesize("one two three four five six seven eight nine ten")] * 3)
    utterances = segment(speech, VadOptions(max_utterance_s=2.0, min_silence_ms=2000), store)
    assert len(utterances) >= 2
    assert all(u.end_s - u.start_s <= 2.0 + 0.2 + 0.05 for u in utterances)


def test_options_are_checked():
    with pytest.raises(ConfigError, match="threshold"):
        VadOptions(threshold=1.5)


def test_a_nan_chunk_is_refused_and_does_not_poison_the_stream(store):
    from perception.audio.io import AudioError

    speech = synthesize("go to the kitchen")
    segmenter = StreamSegmenter(VadOptions(), store)
    segmenter.feed(_silence(0.5))
    poisoned = _silence(0.02)
    poisoned[5] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        segmenter.feed(poisoned)
    utterances = segmenter.feed(np.concatenate([speech, _silence(1.0)])) + segmenter.flush()
    assert len(utterances) == 1
