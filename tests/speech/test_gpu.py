"""CUDA agreement with the CPU (skipped, with the reason, where torch sees no GPU)."""

import numpy as np
import pytest

from perception.speech.acoustic import AcousticModel
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
    prefix = [[400, 401, 402]]
    lp_cpu = cpu.next_logprobs(f_cpu, prefix)
    lp_gpu = gpu.next_logprobs(f_gpu, prefix).cpu()
    kept = lp_cpu.isfinite()
    assert (lp_cpu - lp_gpu)[kept].abs().max().item() < 1e-3
    assert [h.tokens for h in cpu.beam_search(f_cpu, 3, 5)] == [
        h.tokens for h in gpu.beam_search(f_gpu, 3, 5)
    ]
