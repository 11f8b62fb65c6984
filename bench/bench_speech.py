"""Speech benchmark: real-time factor and per-utterance latency of each fusion method on CPU,
against faster-whisper (CTranslate2) running the same bundled Whisper tiny.en, in one process.

    python bench/bench_speech.py [--clips 8] [--threads 2]

Prints ratios to the faster-whisper baseline measured in the same run; never fails on a time.
Clips are robot commands rendered with espeak-ng (the same generator as the data set, its own
seed), mixed with white noise at 10 dB.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from perception.audio import SAMPLE_RATE
from perception.audio.tts import synthesize
from perception.models.store import ModelStore
from perception.speech.api import SpeechOptions, SpeechRecognizer
from perception.speech.corpus import robot_commands
from perception.speech.dataset import VOICES, mix_at_snr

METHODS = ("none", "ger", "static", "uadf")


def clips(n: int, seed: int = 1234) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    commands = robot_commands()
    voices = list(VOICES.values())
    out = []
    for i in rng.choice(len(commands), n, replace=False):
        speech = synthesize(commands[i], voice=voices[rng.integers(len(voices))])
        out.append(mix_at_snr(speech, rng.standard_normal(len(speech)), 10.0))
    return out


def bench_faster_whisper(audios: list[np.ndarray], store: ModelStore, threads: int) -> list[float]:
    from faster_whisper import WhisperModel

    ct2 = store.resolve("whisper-tiny.en").parent / "ct2"
    model = WhisperModel(str(ct2), device="cpu", compute_type="float32", cpu_threads=threads)
    times = []
    for audio in audios:
        t0 = time.perf_counter()
        segments, _ = model.transcribe(
            audio,
            beam_size=5,
            without_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
        )
        list(segments)
        times.append(time.perf_counter() - t0)
    return times


def bench_methods(audios: list[np.ndarray], store: ModelStore) -> dict[str, list[float]]:
    rec = SpeechRecognizer(SpeechOptions(fusion="uadf"), store)
    times: dict[str, list[float]] = {m: [] for m in METHODS}
    for audio in audios:
        for method in METHODS:
            t0 = time.perf_counter()
            rec.fuse(rec.decode(audio), method)
            times[method].append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    store = ModelStore()
    audios = clips(args.clips)
    total_s = sum(len(a) for a in audios) / SAMPLE_RATE
    base = bench_faster_whisper(audios, store, args.threads)
    results = {"faster-whisper (baseline)": base, **bench_methods(audios, store)}
    base_median = float(np.median(base))
    print(f"{len(audios)} clips, {total_s:.1f} s of audio, {args.threads} threads")
    print(f"{'method':26} {'RTF':>7} {'median ms':>10} {'p90 ms':>8} {'× baseline':>11}")
    for name, t in results.items():
        rtf = sum(t) / total_s
        print(
            f"{name:26} {rtf:7.3f} {np.median(t) * 1e3:10.0f} "
            f"{np.percentile(t, 90) * 1e3:8.0f} {np.median(t) / base_median:11.2f}"
        )


if __name__ == "__main__":
    main()
