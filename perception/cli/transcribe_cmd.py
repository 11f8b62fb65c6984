"""``perception transcribe``: Whisper on audio files, as text or one JSON object per file."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from perception.audio import load_audio
from perception.config import to_dict
from perception.errors import PerceptionError
from perception.settings import load_config
from perception.speech.whisper_backend import Transcription, WhisperTranscriber


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "transcribe",
        help="transcribe audio files (wav, flac, mp3, ...)",
        description="Decode each file to 16 kHz mono and transcribe it with "
        "Whisper. A file that fails is reported and the rest go on.",
    )
    p.add_argument("audio", nargs="+", type=Path, help="audio files")
    p.add_argument("--json", action="store_true", help="print one JSON object per file")
    p.add_argument("--config", type=Path, help="YAML config (PerceptionConfig fields)")
    p.add_argument("--model", help="card name or openai-whisper .pt path (asr.model)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="asr.device")
    p.add_argument("--beam-size", type=int, help="asr.beam_size")
    p.add_argument("--language", help="asr.language (default: the model decides)")
    p.set_defaults(run=_run)


def _options(args: argparse.Namespace):
    asr = load_config(args.config).asr
    overrides = {
        "model": args.model,
        "device": args.device,
        "beam_size": args.beam_size,
        "language": args.language,
    }
    return dataclasses.replace(asr, **{k: v for k, v in overrides.items() if v is not None})


def _record(path: Path, result: Transcription, load_ms: float, model_load_ms: float) -> dict:
    record = to_dict(result)
    record.pop("options")
    record["path"] = str(path)
    record["timings_ms"] = {
        "model_load": round(model_load_ms, 1),
        "audio_load": round(load_ms, 1),
        "transcribe": round(result.transcribe_ms, 1),
    }
    record["realtime_factor"] = round(
        result.transcribe_ms / 1e3 / max(result.audio_duration_s, 1e-9), 3
    )
    return record


def _print_text(record: dict) -> None:
    print(f"{record['path']}: {record['text']}")
    for s in record["segments"]:
        print(f"  [{s['start_s']:6.2f} → {s['end_s']:6.2f} s] {s['text']}")
    t = record["timings_ms"]
    print(
        f"  audio {record['audio_duration_s']:.2f} s, transcribed in {t['transcribe']:.0f} ms "
        f"(RTF {record['realtime_factor']}) on {record['device']}"
    )


def _run(args: argparse.Namespace) -> int:
    options = _options(args)
    start = time.perf_counter()
    transcriber = WhisperTranscriber(options)
    model_load_ms = (time.perf_counter() - start) * 1e3
    failures = 0
    for path in args.audio:
        try:
            t0 = time.perf_counter()
            audio = load_audio(path)
            load_ms = (time.perf_counter() - t0) * 1e3
            record = _record(path, transcriber.transcribe(audio), load_ms, model_load_ms)
        except PerceptionError as exc:
            failures += 1
            if args.json:
                print(json.dumps({"path": str(path), "error": str(exc)}))
            print(f"perception transcribe: {path}: {exc}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(record, ensure_ascii=False))
        else:
            _print_text(record)
    return 1 if failures else 0
