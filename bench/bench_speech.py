"""Speech benchmark: compute time per spoken command of each method on CPU, against
faster-whisper (CTranslate2, int8) running the same bundled Whisper tiny.en, in one process.

    python bench/bench_speech.py [--clips 8] [--threads 2] [--seconds 4]

Prints each method's median time and its ratio to the int8 peer measured in the same run, and
the end-of-speech → final-text latency (the VAD's end-of-speech wait plus compute); never fails
on a time. Clips are robot commands rendered with espeak-ng and flite (the data set's voices, its
own seed), about --seconds long, mixed with white noise at 10 dB.
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


def clips(n: int, seconds: float, seed: int = 1234) -> list[np.ndarray]:
    """``n`` rendered commands whose speech lasts within ±1 s of ``seconds``."""
    rng = np.random.default_rng(seed)
    commands = robot_commands()
    voices = list(VOICES.values())
    out: list[np.ndarray] = []
    for i in rng.permutation(len(commands)):
        speech = synthesize(commands[i], voice=voices[rng.integers(len(voices))])
        if abs(len(speech) / SAMPLE_RATE - seconds) <= 1.0:
            out.append(mix_at_snr(speech, rng.standard_normal(len(speech)), 10.0))
        if len(out) == n:
            return out
    raise SystemExit(f"only {len(out)} commands last {seconds} ± 1 s")


def bench_peer(audios: list[np.ndarray], store: ModelStore, threads: int, timestamps: bool):
    from faster_whisper import WhisperModel

    ct2 = store.resolve("whisper-tiny.en").parent / "ct2"
    model = WhisperModel(str(ct2), device="cpu", compute_type="int8", cpu_threads=threads)
    times = []
    for audio in [audios[0], *audios]:  # the first call warms up and is not counted
        t0 = time.perf_counter()
        segments, _ = model.transcribe(
            audio,
            beam_size=5,
            without_timestamps=not timestamps,
            vad_filter=False,
            condition_on_previous_text=False,
            temperature=0.0,
        )
        list(segments)
        times.append(time.perf_counter() - t0)
    return times[1:]


def bench_methods(audios: list[np.ndarray], store: ModelStore) -> dict[str, list[float]]:
    rec = SpeechRecognizer(SpeechOptions(fusion="uadf"), store)
    times: dict[str, list[float]] = {m: [] for m in METHODS}
    for audio in [audios[0], *audios]:
        for method in METHODS:
            t0 = time.perf_counter()
            rec.fuse(rec.decode(audio), method)
            times[method].append(time.perf_counter() - t0)
    return {m: t[1:] for m, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=4.0, help="command length")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    store = ModelStore()
    options = SpeechOptions()
    audios = clips(args.clips, args.seconds)
    total_s = sum(len(a) for a in audios) / SAMPLE_RATE
    peer = bench_peer(audios, store, args.threads, options.asr.timestamps)
    results = {"faster-whisper int8 (peer)": peer, **bench_methods(audios, store)}
    base = float(np.median(peer))
    hangover_ms = options.vad.min_silence_ms
    print(
        f"{len(audios)} commands, {total_s:.1f} s of audio, {args.threads} threads; "
        f"end of speech → text adds the VAD's {hangover_ms} ms wait for silence"
    )
    print(
        f"{'method':28} {'RTF':>6} {'median ms':>10} {'p90 ms':>7} {'× peer':>7} "
        f"{'end of speech → text ms':>24}"
    )
    for name, t in results.items():
        median_ms = np.median(t) * 1e3
        print(
            f"{name:28} {sum(t) / total_s:6.3f} {median_ms:10.0f} "
            f"{np.percentile(t, 90) * 1e3:7.0f} {np.median(t) / base:7.2f} "
            f"{median_ms + hangover_ms:24.0f}"
        )


if __name__ == "__main__":
    main()
