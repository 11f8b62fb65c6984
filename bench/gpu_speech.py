"""GPU checks for the speech stack: CUDA vs CPU parity, fp16 vs fp32, and stage timings.

    python bench/gpu_speech.py [--out DIR]

Runs where the model store is absent (the lent GPU machine carries at most 64 MiB, less than the
Whisper checkpoint): the networks are built with the real architectures (Whisper tiny.en's
dimensions, SmolLM2-135M's config) and seeded random weights. Timings are therefore real for
these architectures; parity is checked on the same random weights on both devices; transcripts
are not meaningful and are not reported. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import inspect
import json
import time
from pathlib import Path

import numpy as np
import torch

TINY_EN = dict(
    n_mels=80,
    n_audio_ctx=1500,
    n_audio_state=384,
    n_audio_head=6,
    n_audio_layer=4,
    n_vocab=51864,
    n_text_ctx=448,
    n_text_state=384,
    n_text_head=6,
    n_text_layer=4,
)
SMOLLM2_135M = dict(
    vocab_size=49152,
    hidden_size=576,
    intermediate_size=1536,
    num_hidden_layers=30,
    num_attention_heads=9,
    num_key_value_heads=3,
    max_position_embeddings=8192,
    rope_theta=100000.0,
    tie_word_embeddings=True,
    rms_norm_eps=1e-5,
)


def _seeded_whisper():
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(0)
    model = Whisper(ModelDimensions(**TINY_EN))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.02 * torch.randn_like(p))
    return model.eval()


def _timed(fn, repeats: int = 5) -> tuple[float, object]:
    fn()  # warm-up (kernels, caches)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats * 1e3, out


def whisper_checks(audio: np.ndarray, dev: str) -> dict:
    from perception.speech.acoustic import AcousticModel, PrefixScorer

    cpu = AcousticModel(_seeded_whisper())
    gpu = AcousticModel(_seeded_whisper().to(dev))
    half = AcousticModel(_seeded_whisper().to(dev), fp16=True)
    tokens = [list(range(300, 310))]  # any 10 text tokens
    out = {}
    f_cpu, f_gpu, f_half = cpu.encode(audio), gpu.encode(audio), half.encode(audio)
    out["encoder_max_abs_diff_cuda_vs_cpu"] = (
        (f_cpu.states - f_gpu.states.cpu()).abs().max().item()
    )
    out["encoder_max_abs_diff_fp16_vs_fp32"] = (
        (f_gpu.states - f_half.states.float()).abs().max().item()
    )
    scorer = PrefixScorer(gpu, f_gpu)
    scorer.advance(tokens[0])
    lp_gpu = torch.log_softmax(scorer.next_logits(), -1).cpu()
    scorer = PrefixScorer(cpu, f_cpu)
    scorer.advance(tokens[0])
    lp_cpu = torch.log_softmax(scorer.next_logits(), -1)
    out["logprob_max_abs_diff_cuda_vs_cpu"] = (lp_cpu - lp_gpu).abs().max().item()
    for name, am in (("cpu_fp32", cpu), ("cuda_fp32", gpu), ("cuda_fp16", half)):
        enc_ms, feats = _timed(lambda am=am: am.encode(audio))
        beam_ms, _ = _timed(lambda am=am, feats=feats: am.beam_search(feats, 5, max_tokens=24), 3)
        out[f"{name}_encode_ms"], out[f"{name}_beam5_24tok_ms"] = (
            round(enc_ms, 2),
            round(beam_ms, 2),
        )
    return out


def llm_checks(dev: str) -> dict:
    import transformers

    torch.manual_seed(0)
    config = transformers.LlamaConfig(**SMOLLM2_135M)
    out = {}
    ids = torch.randint(0, 49000, (1, 180))
    models = {"cpu_fp32": transformers.LlamaForCausalLM(config).eval()}
    models["cuda_fp32"] = transformers.LlamaForCausalLM(config).eval().to(dev)
    models["cuda_fp32"].load_state_dict(models["cpu_fp32"].state_dict())
    models["cuda_bf16"] = transformers.LlamaForCausalLM(config).eval().to(dev).bfloat16()
    models["cuda_bf16"].load_state_dict(models["cpu_fp32"].state_dict())
    # the cache keyword is `cache` in transformers >= 5.2x and `past_key_values` before
    kw = (
        "cache"
        if "cache" in inspect.signature(models["cpu_fp32"].forward).parameters
        else ("past_key_values")
    )
    with torch.no_grad():
        ref = models["cpu_fp32"](input_ids=ids).logits[0, -1]
        for name, model in models.items():
            dev_ids = ids.to(next(model.parameters()).device)
            prefill_ms, res = _timed(lambda m=model, d=dev_ids: m(input_ids=d, use_cache=True), 3)
            cache, token = getattr(res, "cache", None) or res.past_key_values, dev_ids[:, -1:]
            start = time.perf_counter()
            for _ in range(10):  # ten answer tokens, the cache growing as in decoding
                m_out = model(input_ids=token, use_cache=True, **{kw: cache})
                cache = getattr(m_out, "cache", None) or m_out.past_key_values
                token = m_out.logits[:, -1:].argmax(-1)
            if dev_ids.is_cuda:
                torch.cuda.synchronize()
            step_ms = (time.perf_counter() - start) / 10 * 1e3
            logits = res.logits[0, -1].float().cpu()
            out[f"{name}_prefill180_ms"] = round(prefill_ms, 2)
            out[f"{name}_step_ms"] = round(step_ms, 2)
            out[f"{name}_last_logit_max_abs_diff_vs_cpu"] = (logits - ref).abs().max().item()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--smoke", action="store_true", help="run on the CPU to test the script")
    args = parser.parse_args()
    if not torch.cuda.is_available() and not args.smoke:
        raise SystemExit("no CUDA device: this script is for the GPU machine (or use --smoke)")
    dev = "cpu" if args.smoke else "cuda"
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(4 * 16000)).astype(np.float32)  # a 4 s utterance
    name = "cpu (smoke)" if args.smoke else torch.cuda.get_device_name(0)
    report = {
        "device": name,
        "torch": torch.__version__,
        "whisper": whisper_checks(audio, dev),
        "llm": llm_checks(dev),
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "gpu_speech.json").write_text(text)


if __name__ == "__main__":
    main()
