"""``perception asr-eval`` and ``perception speech calibrate``: fit the fusion values for a
Whisper + LLM pair and measure every method on our degraded, noisy speech data."""

from __future__ import annotations

import argparse
from pathlib import Path

from perception.models.store import default_home
from perception.settings import load_config


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, help="data folder (default: $PERCEPTION_HOME/data/speech)")
    p.add_argument("--seed", type=int, default=0, help="data and split seed")
    p.add_argument("--limit", type=int, help="use only the first N items of each split")
    p.add_argument("--config", type=Path, help="YAML config (the speech section is used)")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "asr-eval",
        help="WER of AM-only, GER, static fusion and UADF, per group, with intervals",
        description="Render the espeak-ng + flite data set (once, deterministic from --seed), "
        "fit UADF's temperatures on the calibration split, tune the guards' acceptance margin "
        "and the static weight on dev, and evaluate every method on the test split (GER and "
        "UADF also without guards): WER overall and per voice / noise / speed / room effect / "
        "sentence kind (worst named), paired bootstrap 95%% intervals against AM-only, and "
        "latency. Writes asr_eval.json and the fitted calibration file into --out.",
    )
    _common(p)
    p.add_argument("--test-every", type=int, default=1, help="keep every n-th test item")
    p.add_argument(
        "--am-variants",
        action="store_true",
        help="also measure AM-only encoder windows and timestamp decoding on dev",
    )
    p.add_argument("--out", type=Path, default=Path("out/asr_eval"), help="output folder")
    p.add_argument(
        "--real",
        type=Path,
        metavar="DIR",
        help="instead: real recordings in DIR (transcripts.tsv beside them); every method on "
        "each VAD utterance, proposal WER, copy and hallucination rates, a margin sweep",
    )
    p.add_argument(
        "--methods", nargs="*", default=["ger", "uadf"], help="with --real: LLM methods to run"
    )
    p.add_argument("--contexts", type=Path, help="with --real: file<TAB>phrase; phrase lines")
    p.add_argument(
        "--margin", type=float, help="with --real: the guards' margin (default: chosen there)"
    )
    p.set_defaults(run=_run_eval)

    speech = sub.add_parser("speech", help="speech tools: calibrate")
    speech_sub = speech.add_subparsers(dest="speech_command", required=True, metavar="COMMAND")
    c = speech_sub.add_parser(
        "calibrate",
        help="fit temperatures, static weight and acceptance margin for the configured pair",
        description="Fit UADF's temperatures (calibration split) and the guards' acceptance "
        "margin and static weight (dev split) for the Whisper + LLM pair of --config, and "
        "write the calibration file that the recogniser loads by default for that pair.",
    )
    _common(c)
    c.add_argument(
        "--out", type=Path, help="folder for the file (default: $PERCEPTION_HOME/calibration)"
    )
    c.set_defaults(run=_run_calibrate)


def _options(args: argparse.Namespace):
    from perception.speech.evaluate import EvalOptions

    data = args.data or default_home() / "data" / "speech"
    return EvalOptions(
        data_dir=data,
        seed=args.seed,
        limit=args.limit,
        test_every=getattr(args, "test_every", 1),
        am_variants=getattr(args, "am_variants", False),
        speech=load_config(args.config).speech,
    )


def _run_real(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from perception.speech.api import SpeechRecognizer
    from perception.speech.real_eval import format_real, read_contexts, run_real_eval
    from perception.speech.recordings import load_recordings

    recordings = load_recordings(args.real)
    speech = load_config(args.config).speech
    methods = tuple(args.methods)
    rec = SpeechRecognizer(dataclasses.replace(speech, fusion="uadf") if methods else speech)
    contexts = read_contexts(args.contexts) if args.contexts else None
    report = run_real_eval(rec, recordings, methods, contexts, args.margin)
    report["llm"] = list(rec.model_ids)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "real_eval.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(format_real(report, str(args.real)))
    print(f"\nreport: {args.out / 'real_eval.json'}")
    return 0


def _run_eval(args: argparse.Namespace) -> int:
    from perception.speech.evaluate import format_eval, run_eval

    if args.real:
        return _run_real(args)
    report = run_eval(_options(args), args.out)
    print(format_eval(report))
    print(f"\nreport: {args.out / 'asr_eval.json'}; calibration file beside it")
    return 0


def _run_calibrate(args: argparse.Namespace) -> int:
    from perception.speech import calibration
    from perception.speech.evaluate import fit

    _, _, cal = fit(_options(args))
    path = calibration.write(cal, args.out)
    print(
        f"asr T={cal.asr_temperature:.3f}, llm T={cal.llm_temperature:.3f}, static weight "
        f"{cal.static_weight}, acceptance margin {cal.acceptance_margin} nats/token"
    )
    print(f"calibration file: {path}")
    return 0
