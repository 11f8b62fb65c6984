"""CUDA agreement with the CPU (skipped, with the reason, where torch sees no GPU)."""

import numpy as np
import pytest

from perception.speech.acoustic import AcousticModel, PrefixScorer
from tests.speech.test_acoustic import random_multilingual_whisper

pytestmark = pytest.mark.gpu


def test_acoustic_model_on_cuda_matches_cpu_in_fp32_and_fp16():
    audio = (0.1 * np.random.default_rng(0).standard_normal(48000)).astype(np.float32)
    cpu = AcousticModel(random_multilingual_whisper(), language="en")
    gpu = AcousticModel(random_multilingual_whisper().cuda(), language="en")
    half = AcousticModel(random_multilingual_whisper().cuda(), language="en", fp16=True)
    f_cpu, f_gpu, f_half = cpu.encode(audio), gpu.encode(audio), half.encode(audio)
    assert (f_cpu.states - f_gpu.states.cpu()).abs().max().item() < 1e-3
    assert (f_cpu.states - f_half.states.float().cpu()).abs().max().item() < 5e-2
    prefix = [400, 401, 402]
    lp_cpu = PrefixScorer(cpu, f_cpu).logprobs([prefix])[0]
    lp_gpu = PrefixScorer(gpu, f_gpu).logprobs([prefix])[0]
    assert abs(lp_cpu - lp_gpu) < 1e-3
    best_cpu = cpu.beam_search(f_cpu, 3, 5).hypotheses
    best_gpu = gpu.beam_search(f_gpu, 3, 5).hypotheses
    assert [h.tokens for h in best_cpu] == [h.tokens for h in best_gpu]


def test_fused_decoding_runs_on_cuda_and_matches_cpu():
    from perception.llm.causal_lm import CausalLM
    from perception.speech.fusion import uadf_weight
    from perception.speech.ger import LlmOptions
    from perception.speech.guards import GuardOptions
    from perception.speech.uadf import FusedDecoder, Temperatures
    from tests.speech.test_uadf import WhisperVocabTokenizer, _uniform_gpt2

    audio = (0.1 * np.random.default_rng(3).standard_normal(24000)).astype(np.float32)
    texts = []
    for device in ("cpu", "cuda"):
        am = AcousticModel(random_multilingual_whisper().to(device), language="en")
        tok = WhisperVocabTokenizer(am.tokenizer)
        lm = CausalLM("u", _uniform_gpt2(am.model.dims.n_vocab, am.tokenizer.eot).to(device), tok)
        decoder = FusedDecoder(lm, am, LlmOptions(max_new_tokens=5), Temperatures(0.9, 1.1))
        texts.append(decoder.decode(am.encode(audio), ["hallo"], uadf_weight, GuardOptions()))
    assert texts[0] == texts[1]
