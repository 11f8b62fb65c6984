"""``perception transcribe``: VAD-gated Whisper N-best with optional LLM fusion, per file."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from perception.audio import SAMPLE_RATE, load_audio
from perception.config import to_dict
from perception.errors import one_line
from perception.settings import load_config
from perception.speech.api import SpeechOptions, SpeechRecognizer, transcribe_audio
from perception.speech.types import Transcript

# Below this much audio a real-time factor says more about fixed costs (VAD set-up) than speed.
MIN_RTF_AUDIO_S = 1.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "transcribe",
        help="transcribe audio files (wav, flac, mp3, ...)",
        description="Decode each file to 16 kHz mono, cut it into utterances with Silero VAD "
        "(silence is never sent to Whisper), take Whisper's N-best and produce the "
        "text by the chosen fusion method. A file that fails is reported and the "
        "rest go on.",
    )
    p.add_argument("audio", nargs="+", type=Path, help="audio files")
    p.add_argument(
        "--fusion",
        choices=["none", "ger", "static", "uadf"],
        help="none: Whisper beam search; ger: LLM rewrites the N-best; static: fixed "
        "weight fusion; uadf: uncertainty-aware fusion (speech.fusion)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per file")
    p.add_argument("--config", type=Path, help="YAML config (PerceptionConfig fields)")
    p.add_argument("--model", help="card name or openai-whisper .pt path (speech.asr.model)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="speech.asr.device")
    p.add_argument("--beam-size", type=int, help="speech.asr.beam_size (N-best size)")
    p.add_argument("--language", help="speech.asr.language (default: the model decides)")
    p.set_defaults(run=_run)


def _options(args: argparse.Namespace) -> SpeechOptions:
    speech = load_config(args.config).speech
    asr = {
        "model": args.model,
        "device": args.device,
        "beam_size": args.beam_size,
        "language": args.language,
    }
    asr = dataclasses.replace(speech.asr, **{k: v for k, v in asr.items() if v is not None})
    return dataclasses.replace(speech, asr=asr, fusion=args.fusion or speech.fusion)


def _record(
    path: Path,
    duration_s: float,
    transcripts: list[Transcript],
    load_ms: float,
    model_load_ms: float,
) -> dict:
    stages: dict[str, float] = {
        "model_load": round(model_load_ms, 1),
        "audio_load_vad": round(load_ms, 1),
    }
    for t in transcripts:
        for stage, ms in t.timings_ms.items():
            stages[stage] = round(stages.get(stage, 0.0) + ms, 1)
    compute_s = sum(v for k, v in stages.items() if k != "model_load") / 1e3
    return {
        "path": str(path),
        "text": " ".join(t.text for t in transcripts if t.text),
        "fusion": transcripts[0].fusion if transcripts else None,
        "audio_duration_s": round(duration_s, 3),
        "utterances": [to_dict(t) for t in transcripts],
        "timings_ms": stages,
        "realtime_factor": round(compute_s / duration_s, 3)
        if duration_s >= MIN_RTF_AUDIO_S
        else None,
    }


def _print_text(record: dict) -> None:
    print(f"{record['path']}: {record['text'] or '(no speech)'}")
    for u in record["utterances"]:
        print(f"  [{u['start_s']:6.2f} → {u['end_s']:6.2f} s] {u['text']}")
        for h in u["nbest"][:3]:
            print(f"      n-best {h['avg_logprob']:6.3f}  {h['text']}")
    stages = ", ".join(f"{k} {v:.0f} ms" for k, v in record["timings_ms"].items())
    rtf = record["realtime_factor"]
    rtf_text = f"RTF {rtf}" if rtf is not None else f"no RTF (under {MIN_RTF_AUDIO_S:.0f} s)"
    print(f"  fusion {record['fusion']}; {stages}; {rtf_text}")


def _run(args: argparse.Namespace) -> int:
    options = _options(args)
    start = time.perf_counter()
    recognizer = SpeechRecognizer(options)
    model_load_ms = (time.perf_counter() - start) * 1e3
    failures = 0
    for path in args.audio:
        try:
            t0 = time.perf_counter()
            audio = load_audio(path)
            transcripts = transcribe_audio(recognizer, audio)
            load_ms = (time.perf_counter() - t0) * 1e3 - sum(
                sum(t.timings_ms.values()) for t in transcripts
            )
            record = _record(path, len(audio) / SAMPLE_RATE, transcripts, load_ms, model_load_ms)
        except Exception as exc:  # per-file guard: a bad file is counted and the rest go on
            failures += 1
            if args.json:
                print(json.dumps({"path": str(path), "error": one_line(exc)}))
            print(f"perception transcribe: {path}: {one_line(exc)}", file=sys.stderr)
            continue
        print(json.dumps(record, ensure_ascii=False) if args.json else "", end="")
        if args.json:
            print()
        else:
            _print_text(record)
    return 1 if failures else 0
