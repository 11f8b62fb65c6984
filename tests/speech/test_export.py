"""Whisper as ONNX: the encoder and the cached decoder against torch, and the recogniser's beam
search on onnxruntime against the same search on torch."""

import json

import numpy as np
import pytest
import torch
from whisper.model import ModelDimensions

from perception.audio import load_audio
from perception.eval.wer import normalize
from perception.export.manifest import manifest_path
from perception.speech.acoustic import AcousticModel
from perception.speech.export import DecoderGraph, EncoderGraph
from perception.speech.whisper_backend import load_whisper, model_path
from perception.speech.whisper_onnx import OnnxWhisper, load_onnx_whisper
from tests.conftest import SAMPLE_TEXT, SAMPLE_WAV
from tests.whisper_models import seeded_whisper

SMALL = ModelDimensions(
    n_mels=80, n_audio_ctx=1500, n_audio_state=32, n_audio_head=2, n_audio_layer=1,
    n_vocab=51864, n_text_ctx=64, n_text_state=32, n_text_head=2, n_text_layer=2,
)  # fmt: skip
# float32 graphs vs torch: encoder states are O(1-10), logits O(10)
STATES_ATOL, LOGITS_ATOL = 5e-4, 5e-4


def _checkpoint(tmp_path, model):
    path = tmp_path / "small.pt"
    torch.save({"dims": model.dims.__dict__, "model_state_dict": model.state_dict()}, path)
    return path


def test_cached_decoding_equals_one_full_pass(tmp_path):
    """Feeding tokens one at a time through the self-attention cache gives the logits of one
    uncached pass over all of them (batch 2 against a batch-1 cross cache)."""
    model = seeded_whisper(SMALL)
    onnx = load_onnx_whisper(model, _checkpoint(tmp_path, model), tmp_path / "g")
    mel = np.random.default_rng(0).standard_normal((1, 80, 300)).astype(np.float32)
    states, cross = onnx.encode(mel)
    tokens = np.array([[50257, 50362, 400, 1000, 7], [50257, 50362, 11, 12, 13]])
    k = v = onnx.empty_cache(2)
    steps = []
    for i in range(tokens.shape[1]):
        logits, k, v = onnx.decode(tokens[:, i : i + 1], k, v, cross)
        steps.append(logits)
    assert k.shape == (2, 2, 5, 32)
    with torch.no_grad():
        want = model.decoder(torch.from_numpy(tokens), torch.from_numpy(states).expand(2, -1, -1))
    np.testing.assert_allclose(np.concatenate(steps, 1), want.numpy(), atol=LOGITS_ATOL)


def test_graphs_are_reexported_when_the_checkpoint_changes(tmp_path):
    model = seeded_whisper(SMALL)
    checkpoint, folder = _checkpoint(tmp_path, model), tmp_path / "g"
    load_onnx_whisper(model, checkpoint, folder)
    first = json.loads(manifest_path(folder / "whisper_decoder.onnx").read_text())
    other = seeded_whisper(SMALL, seed=1)
    load_onnx_whisper(other, _checkpoint(tmp_path, other), folder)
    second = json.loads(manifest_path(folder / "whisper_decoder.onnx").read_text())
    assert first["source_sha256"] != second["source_sha256"]
    assert first["sha256"] != second["sha256"]


@pytest.fixture(scope="module")
def tiny(store):
    checkpoint = model_path("whisper-tiny.en", store)
    return load_whisper(checkpoint), checkpoint


@pytest.fixture(scope="module")
def tiny_onnx(tiny, tmp_path_factory) -> OnnxWhisper:
    model, checkpoint = tiny
    return load_onnx_whisper(model, checkpoint, tmp_path_factory.mktemp("whisper"), threads=1)


@pytest.mark.model
def test_tiny_en_graphs_match_torch_on_the_bundled_command(tiny, tiny_onnx):
    import whisper

    model, _ = tiny
    audio = whisper.pad_or_trim(load_audio(SAMPLE_WAV))
    mel = whisper.log_mel_spectrogram(torch.from_numpy(audio))[None, :, :1000]  # 10 s window
    states, cross = tiny_onnx.encode(mel.numpy())
    with torch.no_grad():
        want_states, want_k, _ = EncoderGraph(model)(mel)
        want_trimmed = AcousticModel(model)._encode_trimmed(mel)
    np.testing.assert_allclose(states, want_trimmed.numpy(), atol=STATES_ATOL)
    np.testing.assert_allclose(cross.k, want_k.numpy(), atol=STATES_ATOL)
    tokens = torch.tensor([[50257, 50362]])
    empty = tiny_onnx.empty_cache(1)
    logits, _, _ = tiny_onnx.decode(tokens.numpy(), empty, empty, cross)
    with torch.no_grad():
        want = model.decoder(tokens, want_states)
        graph = DecoderGraph(model)(tokens, torch.from_numpy(empty), torch.from_numpy(empty),
                                    want_k, EncoderGraph(model)(mel)[2])  # fmt: skip
    np.testing.assert_allclose(logits, want.numpy(), atol=LOGITS_ATOL)
    np.testing.assert_allclose(graph[0].numpy(), want.numpy(), atol=LOGITS_ATOL)


def _noisy(audio: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(len(audio)).astype(np.float32)
    scale = np.sqrt(np.mean(audio**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
    return (audio + scale * noise).astype(np.float32)


@pytest.mark.model
def test_beam_search_on_onnxruntime_gives_torchs_nbest(tiny, tiny_onnx):
    """Same candidates in the same order, log-probabilities within 1e-3, on the bundled command
    clean and under white noise at 10 and 0 dB."""
    model, _ = tiny
    clean = load_audio(SAMPLE_WAV)
    on_torch, on_onnx = AcousticModel(model), AcousticModel(model, onnx=tiny_onnx)
    for audio in (clean, _noisy(clean, 10, 0), _noisy(clean, 0, 1)):
        a = on_torch.beam_search(on_torch.encode(audio))
        b = on_onnx.beam_search(on_onnx.encode(audio))
        assert [h.text for h in a.hypotheses] == [h.text for h in b.hypotheses]
        for x, y in zip(a.hypotheses, b.hypotheses, strict=True):
            assert abs(x.sum_logprob - y.sum_logprob) < 1e-3
        assert abs(a.no_speech_prob - b.no_speech_prob) < 1e-4
    best = on_onnx.beam_search(on_onnx.encode(clean)).hypotheses[0].text
    assert normalize(best) == normalize(SAMPLE_TEXT)


@pytest.mark.model
def test_recogniser_option_runtime_onnxruntime_transcribes_like_torch(store, tmp_path):
    """``asr.runtime: onnxruntime`` through the recogniser: graphs exported into ``onnx_dir``,
    providers reported, the same N-best as ``torch`` on the bundled command."""
    from perception.speech.api import SpeechOptions, SpeechRecognizer
    from perception.speech.whisper_backend import WhisperOptions

    audio = load_audio(SAMPLE_WAV)
    on_torch = SpeechRecognizer(
        SpeechOptions(asr=WhisperOptions(device="cpu", runtime="torch")), store
    )
    options = WhisperOptions(device="cpu", runtime="onnxruntime", onnx_dir=str(tmp_path))
    on_onnx = SpeechRecognizer(SpeechOptions(asr=options), store)
    assert on_onnx.providers == ("CPUExecutionProvider",) and on_torch.providers == ("torch:cpu",)
    assert (tmp_path / "whisper_decoder.onnx.manifest.json").is_file()
    a, b = on_torch.decode(audio), on_onnx.decode(audio)
    assert [h.text for h in a.nbest] == [h.text for h in b.nbest]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]


def test_runtime_auto_is_onnxruntime_on_cpu_and_torch_on_cuda(store):
    """The default runtime: onnxruntime on a CPU, torch on a CUDA GPU (no export there)."""
    from perception.speech import whisper_backend as wb

    assert wb.WhisperOptions().runtime == "auto"
    assert wb.load_runtime(wb.WhisperOptions(), None, None, store, "cuda") is None


def test_tensorrt_runtime_stops_with_one_line_without_tensorrt(store):
    import importlib.util

    from perception.export.tensorrt import TensorRTUnavailable
    from perception.speech.whisper_backend import WhisperOptions, load_runtime

    if importlib.util.find_spec("tensorrt") is not None:
        pytest.skip("TensorRT is installed here")
    with pytest.raises(TensorRTUnavailable, match="speech.asr.runtime 'tensorrt'"):
        load_runtime(WhisperOptions(runtime="tensorrt"), None, None, store, "cpu")
