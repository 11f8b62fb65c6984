"""Per-language WER / CER and spoken-language ID on rendered multilingual speech
(perception/speech/multilingual.py), and whether the LLM corrector is fit for each language.

Runs, in one process on the same clips:
- the AM alone (``--model``, default whisper-base, language auto);
- with ``--llm``: UADF forced on every language (``speech.llm.languages`` = all nine), to measure
  which languages the corrector helps or hurts;
- with ``--english-model`` (default whisper-tiny.en): that model on the English clips.

Writes ``--out``.{txt,json}. Rendered espeak-ng speech: a stress set for languages without real
recordings here, not a real-speech result.

    python bench/speech_multilingual.py [--threads 2] [--llm] [--out PREFIX]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import torch

from perception.speech.api import SpeechOptions, load_recognizer
from perception.speech.multilingual import (
    SENTENCES,
    format_table,
    per_language,
    render_clips,
    run_clips,
)


def options(
    model: str, fusion: str = "none", languages: tuple[str, ...] = ("en",)
) -> SpeechOptions:
    base = SpeechOptions()
    asr = dataclasses.replace(
        base.asr, model=model, language="auto" if model != "whisper-tiny.en" else "en"
    )
    llm = dataclasses.replace(base.llm, languages=languages)
    return dataclasses.replace(base, asr=asr, llm=llm, fusion=fusion)


def run(name: str, opts: SpeechOptions, clips, lines: list[str], out: dict) -> None:
    results = run_clips(load_recognizer(opts), clips)
    table = per_language(results)
    out[name] = {"table": table, "clips": [dataclasses.asdict(r) for r in results]}
    lines += [f"## {name}", format_table(table), ""]
    print("\n".join(lines[-4:]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--english-model", default="whisper-tiny.en")
    parser.add_argument("--llm", action="store_true", help="also UADF forced on every language")
    parser.add_argument("--out", type=Path, default=Path("bench/results/speech_multilingual"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    clips = render_clips()
    lines = [
        f"# python bench/speech_multilingual.py --threads {args.threads}"
        f"{' --llm' if args.llm else ''} (rendered espeak-ng speech, {len(clips)} clips)",
        "",
    ]
    out: dict = {}
    run(f"{args.model}, AM only, language auto", options(args.model), clips, lines, out)
    if args.llm:
        every = tuple(SENTENCES)
        run(
            f"{args.model} + UADF on every language",
            options(args.model, "uadf", every),
            clips,
            lines,
            out,
        )
    english = [c for c in clips if c.language == "en"]
    run(
        f"{args.english_model}, AM only (English clips)",
        options(args.english_model),
        english,
        lines,
        out,
    )
    args.out.with_suffix(".txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args.out.with_suffix(".json").write_text(
        json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
