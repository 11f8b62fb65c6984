"""AM-only on real recordings, clip by clip, against openai-whisper's ``transcribe()`` and
faster-whisper (int8), all three on the same Whisper weights, beam 5, in one process.

    python bench/speech_real.py [--data ../shared/data/speech] [--threads 2]
        [--runtime torch|onnxruntime] [--out FILE.json]

For each recording: the reference, each system's text and its word errors (openai-whisper's
English normaliser), and each system's compute time; then each system's corpus WER and its
median time per recording as a ratio to faster-whisper's. Ours is ``perception transcribe``'s
path (Silero VAD, then Whisper per utterance). Never fails on a time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from perception.audio import load_audio
from perception.eval.wer import count_errors, normalizer_for
from perception.models.store import ModelStore
from perception.speech.api import SpeechOptions, SpeechRecognizer, transcribe_audio
from perception.speech.recordings import load_recordings
from perception.speech.whisper_backend import WhisperOptions, load_whisper, model_path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech"


def timed(fn, audio: np.ndarray) -> tuple[str, float]:
    t0 = time.perf_counter()
    text = fn(audio)
    return text, time.perf_counter() - t0


def systems(model: str, store: ModelStore, threads: int, runtime: str) -> dict:
    """name → function(audio) → text."""
    from faster_whisper import WhisperModel

    asr = WhisperOptions(model=model, runtime=runtime)
    rec = SpeechRecognizer(SpeechOptions(asr=asr), store)
    ours = lambda a: " ".join(t.text for t in transcribe_audio(rec, a, store) if t.text)  # noqa: E731
    whisper_model = load_whisper(model_path(model, store))
    peer_whisper = lambda a: whisper_model.transcribe(a, beam_size=5, fp16=False)["text"]  # noqa: E731
    ct2 = store.resolve(model).parent / "ct2"
    fw = WhisperModel(str(ct2), device="cpu", compute_type="int8", cpu_threads=threads)
    peer_fw = lambda a: " ".join(s.text for s in fw.transcribe(a, beam_size=5)[0])  # noqa: E731
    return {
        f"ours ({runtime})": ours,
        "whisper.transcribe": peer_whisper,
        "faster-whisper int8": peer_fw,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", default="whisper-tiny.en")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runtime", default="torch", choices=["torch", "onnxruntime"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    store = ModelStore()
    recordings = load_recordings(args.data)
    runs = systems(args.model, store, args.threads, args.runtime)
    norm = normalizer_for("en")
    rows = []
    for fn in runs.values():  # warm-up, not counted
        fn(load_audio(recordings[0].path))
    for r in recordings:
        audio = load_audio(r.path)
        row = {"file": r.name, "source": r.source, "kind": r.kind, "reference": r.reference}
        for name, fn in runs.items():
            text, seconds = timed(fn, audio)
            errors = count_errors(r.reference, text, normalizer=norm)
            row[name] = {"text": text.strip(), "edits": errors.edits, "seconds": seconds}
        row["words"] = errors.words
        rows.append(row)
        flags = " ".join(f"{row[n]['edits']:2d}" for n in runs)
        print(f"{r.name[:48]:48} {row['words']:3d} words, edits {flags}", flush=True)
    words = sum(row["words"] for row in rows)
    base = float(np.median([row["faster-whisper int8"]["seconds"] for row in rows]))
    summary = {}
    print(f"\n{len(rows)} recordings, {words} words, {args.threads} threads, {args.model}")
    for name in runs:
        wer = sum(row[name]["edits"] for row in rows) / words
        median = float(np.median([row[name]["seconds"] for row in rows]))
        total = sum(row[name]["seconds"] for row in rows)
        summary[name] = {"wer": wer, "median_s": median, "total_s": total, "x_fw": median / base}
        print(
            f"{name:22} WER {wer:6.2%}  median {median * 1e3:6.0f} ms  total {total:6.1f} s  "
            f"{median / base:5.2f}x faster-whisper"
        )
    if args.out:
        report = {"model": args.model, "threads": args.threads, "summary": summary, "rows": rows}
        args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
