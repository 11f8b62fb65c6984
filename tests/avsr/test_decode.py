"""AV-UADF decoding with the real Whisper tiny.en and an oracle visual stream built from the
renderer's word timings: the fusion logic, separated from how good the visual model is."""

import numpy as np
import pytest

from perception.audio.tts import synthesize_timed
from perception.avsr.dataset import PAD_S, _timing, vocabulary
from perception.avsr.fusion import VisualPrefixScorer, av_uadf_weight, decode
from perception.eval.wer import count_errors, normalizer_for
from perception.speech.api import SpeechOptions, SpeechRecognizer
from perception.speech.dataset import _colored_noise, mix_at_snr
from perception.speech.uadf import static_weight

pytestmark = pytest.mark.model

TEXT = "Bring the blue mug to the workshop."


@pytest.fixture(scope="module")
def am(store):
    return SpeechRecognizer(SpeechOptions(), store).acoustic


def _oracle(words, duration_s: float, vocab: list[str], sharp: float = 6.0) -> np.ndarray:
    """Word logits at 25 Hz that put ``sharp`` nats on the word being said (else no-word)."""
    times = np.arange(0, duration_s, 0.04)
    logits = np.zeros((len(times), len(vocab) + 1))
    index = {w: i + 1 for i, w in enumerate(vocab)}
    logits[:, 0] = sharp
    for start, end, w in words:
        inside = (times >= start) & (times < end)
        logits[inside, 0] = 0
        logits[inside, index[w]] = sharp
    return logits


def _wer(text: str) -> float:
    return count_errors(TEXT, text, normalizer=normalizer_for("en")).rate


def test_zero_weight_is_whisper_greedy_and_oracle_lips_repair_noisy_audio(am):
    speech = synthesize_timed(TEXT, "en-us", 170)
    pad = np.zeros(int(PAD_S * 16000), np.float32)
    clean = np.concatenate([pad, speech.audio, pad])
    _, words = _timing(speech)
    vocab = vocabulary()
    lips = VisualPrefixScorer(_oracle(words, len(clean) / 16000, vocab, sharp=9.0), vocab)
    quiet = am.encode(clean)
    assert _wer(decode(am, quiet, None, static_weight(0.0))) <= 0.15
    assert decode(am, quiet, lips, static_weight(0.0)) == decode(am, quiet, None, static_weight(1))
    noise = _colored_noise(len(clean), "white", np.random.default_rng(4))
    loud = am.encode(mix_at_snr(clean, noise, -5.0))
    # at -5 dB Whisper tiny is confidently wrong; a temperature of 2 (what calibration gives
    # an over-confident model) leaves the lips room to act within UADF's weight of <= 0.5
    audio_only = _wer(decode(am, loud, None, static_weight(0.0), t_audio=2.0))
    fused = _wer(decode(am, loud, lips, av_uadf_weight, t_audio=2.0))
    assert fused < audio_only, (fused, audio_only)
