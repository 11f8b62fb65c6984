"""The converted Whisper tiny.en against CTranslate2 / faster-whisper running the original files.

Same features in, same greedy tokens out, encoder states and per-step logits within 1e-3
(measured: 4.8e-5 on logits of magnitude ~30). Clips are rendered with espeak-ng in several
voices, plus the bundled sample.
"""

import numpy as np
import pytest
import torch

from perception.audio import load_audio
from perception.audio.tts import synthesize
from perception.speech.whisper_backend import load_whisper
from tests.conftest import SAMPLE_WAV

ctranslate2 = pytest.importorskip("ctranslate2", reason="ctranslate2 comes with the dev extra")
whisper = pytest.importorskip("whisper")

pytestmark = pytest.mark.model
TOL = 1e-3
PROMPT = [50257, 50362]  # <|startoftranscript|> <|notimestamps|> (tiny.en has no language token)
CLIPS = [
    ("Robot, bring the red box to the loading dock.", "en-us"),
    ("Please stop and wait for the elevator.", "en-gb+f3"),
    ("Turn right at the second door, then go straight ahead.", "en-us+m5"),
]


@pytest.fixture(scope="module")
def models(store):
    path = store.resolve("whisper-tiny.en")
    ours = load_whisper(path).eval()
    peer = ctranslate2.models.Whisper(
        str(path.parent / "ct2"), device="cpu", compute_type="float32"
    )
    return ours, peer, path.parent / "ct2"


@pytest.fixture(scope="module")
def audios():
    return [load_audio(SAMPLE_WAV)] + [synthesize(t, voice=v) for t, v in CLIPS]


def test_same_greedy_tokens_encoder_states_and_logits(models, audios):
    ours, peer, _ = models
    for audio in audios:
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio)).unsqueeze(0)  # (1, 80, 3000)
        features = ctranslate2.StorageView.from_array(mel.numpy())
        result = peer.generate(features, [PROMPT], beam_size=1, return_logits_vocab=True)[0]
        peer_tokens = result.sequences_ids[0]
        peer_logits = np.stack([np.array(x) for x in result.logits[0]]).reshape(
            -1, ours.dims.n_vocab
        )  # (steps, vocab), steps = tokens + end-of-text
        decoded = whisper.decode(
            ours,
            mel[0],
            whisper.DecodingOptions(
                language="en", temperature=0.0, without_timestamps=True, fp16=False
            ),
        )
        assert decoded.tokens == peer_tokens, (decoded.text, peer_tokens)

        with torch.no_grad():
            states = ours.encoder(mel)
            logits = ours.logits(torch.tensor([PROMPT + peer_tokens]), states)[0].numpy()
        np.testing.assert_allclose(np.array(peer.encode(features)), states.numpy(), atol=TOL)
        ours_steps = logits[len(PROMPT) - 1 : len(PROMPT) - 1 + len(peer_logits)]
        kept = peer_logits > -1e9  # CTranslate2 reports suppressed tokens as -inf or lowest float
        np.testing.assert_allclose(peer_logits[kept], ours_steps[kept], atol=TOL)


def test_same_transcripts_as_faster_whisper(models, audios):
    faster_whisper = pytest.importorskip("faster_whisper")
    ours, _, ct2_dir = models
    peer = faster_whisper.WhisperModel(str(ct2_dir), device="cpu", compute_type="float32")
    for audio in audios:
        segments, _ = peer.transcribe(
            audio, beam_size=1, temperature=0.0, vad_filter=False, condition_on_previous_text=False
        )
        peer_text = " ".join(s.text.strip() for s in segments)
        ours_text = whisper.transcribe(
            ours, audio, temperature=0.0, fp16=False, condition_on_previous_text=False
        )["text"].strip()
        assert ours_text == peer_text
