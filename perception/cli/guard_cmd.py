"""``perception guard``: check texts with the guardrails, evaluate them, retrain them."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from perception.errors import PerceptionError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "guard",
        help="check texts with the guardrails; evaluate or retrain the detectors",
        description="Compact detectors (harmful request, jailbreak, prompt injection, harmful "
        "reply) over MiniLM features; Gradient Cuff on request.",
    )
    gsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    chk = gsub.add_parser("check", help="check texts; exit 1 when any is refused")
    chk.add_argument("text", nargs="?", help="the text to check")
    chk.add_argument("--file", type=Path, help='.jsonl of {"text": ...} lines, or one per line')
    chk.add_argument("--json", action="store_true", help="one JSON object per input, in order")
    chk.add_argument(
        "--direction",
        choices=["prompt", "reply", "context"],
        default="prompt",
        help="prompt: into the LLM; reply: out of it; context: heard or read by the robot",
    )
    chk.add_argument(
        "--bundle", help="bundled name or .pt path (default: the bundled guard-minilm-hybrid)"
    )
    chk.add_argument("--gradient-cuff", action="store_true", help="also run Gradient Cuff (slow)")
    chk.add_argument("--adapter", default="", help="Gradient Cuff's LLM adapter (card name)")
    chk.set_defaults(run=_check)

    ev = gsub.add_parser("eval", help="AUROC / TPR per detector and source, over-flag, latency")
    ev.add_argument("data", type=Path, help="guard data folder, or a .jsonl of {text, label}")
    ev.add_argument("--split", choices=["dev", "test"], default="test")
    ev.add_argument(
        "--bundle", help="bundled name or .pt path (default: the bundled guard-minilm-hybrid)"
    )
    ev.add_argument("--llm", action="store_true", help="also the guarded LLM's refusal table")
    ev.add_argument(
        "--loso",
        action="store_true",
        help="also the leave-one-source-out table of the LR recipe (retrains it per source)",
    )
    ev.add_argument("--save-loso", type=Path, help="write the table to PATH.txt and PATH.json")
    ev.set_defaults(run=_eval)

    cuff = gsub.add_parser("eval-cuff", help="Gradient Cuff: threshold, TPR, FPR and cost")
    cuff.add_argument("--data", type=Path, help="guard data folder (default ../shared/data/guard)")
    cuff.add_argument("--jailbreaks", type=int, default=12, help="held-out jailbreak prompts")
    cuff.add_argument("--benign-dev", type=int, default=20, help="benign dev prompts (threshold)")
    cuff.add_argument("--benign-test", type=int, default=12, help="held-out benign prompts")
    cuff.add_argument(
        "--max-new-tokens", type=int, default=16, help="length of each sampled reply"
    )
    cuff.add_argument("--save", action="store_true", help="store the thresholds for `check`")
    cuff.set_defaults(run=_eval_cuff)

    ex = gsub.add_parser("export", help="ONNX feature model + parity with torch")
    ex.add_argument("out", type=Path, help="the .onnx file to write (a .json manifest beside)")
    ex.add_argument(
        "--bundle", help="bundled name or .pt path (default: the bundled guard-minilm-hybrid)"
    )
    ex.set_defaults(run=_export)

    tr = gsub.add_parser("train", help="retrain the detectors and write the bundle + card")
    tr.add_argument("--data", type=Path, help="guard data folder (default ../shared/data/guard)")
    tr.add_argument(
        "--out", type=Path, help="bundle path (default: the bundled LR bundle guard-minilm.pt)"
    )
    tr.add_argument("--target-fpr", type=float, default=0.02, help="threshold FPR on benign dev")
    tr.set_defaults(run=_train)

    ft = gsub.add_parser("finetune", help="fine-tune MiniLM's top layers as the detectors")
    ft.add_argument("--data", type=Path, help="guard data folder (default ../shared/data/guard)")
    ft.add_argument(
        "--out", type=Path, help="bundle path (default: the bundled guard-minilm-hybrid.pt)"
    )
    ft.add_argument("--epochs", type=int, default=3, help="passes over the training rows")
    ft.add_argument("--layers", type=int, default=2, help="top MiniLM layers to fine-tune")
    ft.add_argument("--loso", type=int, default=0, help="first a left-out table in N+1 folds")
    ft.add_argument("--save-loso", type=Path, help="write that table to PATH.txt and PATH.json")
    ft.add_argument(
        "--tuned-detectors",
        default="harmful,reply",
        help="detectors that read the tuned logits; the rest keep LR heads on frozen features",
    )
    ft.set_defaults(run=_finetune)


def _detector_options(args: argparse.Namespace):
    """The detectors' options with the --bundle given, else the default bundle."""
    from perception.llm.guard.detectors import DetectorOptions

    return DetectorOptions(bundle=args.bundle) if args.bundle else DetectorOptions()


def read_texts(args: argparse.Namespace) -> list[str]:
    """The text argument, or the file's texts (.jsonl: the "text" field of each line)."""
    if (args.text is None) == (args.file is None):
        raise PerceptionError("give either TEXT or --file F (not both, not neither)")
    if args.text is not None:
        return [args.text]
    lines = [ln for ln in args.file.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if args.file.suffix != ".jsonl":
        return lines
    texts = []
    for n, line in enumerate(lines, 1):
        item = json.loads(line)
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise PerceptionError(f'{args.file}:{n}: expected an object with a "text" string')
        texts.append(item["text"])
    return texts


def _check(args: argparse.Namespace) -> int:
    from perception.llm.guard.screen import Screen, ScreenOptions

    texts = read_texts(args)
    options = ScreenOptions(
        _detector_options(args), gradient_cuff=args.gradient_cuff, adapter=args.adapter
    )
    screen = Screen(options)
    refused = 0
    for text, verdict in zip(texts, screen.check_many(texts, args.direction), strict=True):
        refused += not verdict.allowed
        record = {
            "allowed": verdict.allowed,
            "labels": list(verdict.labels),
            "scores": {k: round(v, 6) for k, v in verdict.scores.items()},
        }
        if verdict.message and not verdict.allowed:
            record["message"] = verdict.message
        if args.json:
            print(json.dumps(record, ensure_ascii=False))
        else:
            mark = "allowed" if verdict.allowed else "REFUSED"
            scores = " ".join(f"{k}={v:.3f}" for k, v in verdict.scores.items())
            print(f"{mark:8} {scores}  {verdict.message}  | {text[:60]!r}")
    return 1 if refused else 0


def _eval(args: argparse.Namespace) -> int:
    from perception.llm.guard import evaluate as ev
    from perception.llm.guard.data import load_rows
    from perception.llm.guard.detectors import Detectors
    from perception.llm.guard.features import FEATURE_DIM
    from perception.llm.guard.train import featurize

    detectors = Detectors(_detector_options(args))
    if args.data.suffix == ".jsonl":
        print(ev.format_external(ev.evaluate_external(detectors, args.data)))
    else:
        rows = load_rows(args.data)
        feats = featurize(rows, detectors.embedder)
        report = ev.evaluate(detectors.bundle, rows, feats, args.split)
        print(ev.format_report(report))
        texts = [r.text for r in rows if r.split == args.split and r.kind == "benign"][:60]
        print(_latency(detectors, texts))
        if args.loso:
            print(_loso(rows, feats[:, :FEATURE_DIM], detectors.bundle.meta, args.save_loso))
    if args.llm:
        from perception.llm.safety import format_refusals, refusal_table

        print(format_refusals(refusal_table(args.data if args.data.is_dir() else None)))
    return 0


def _loso(rows, feats, meta: dict, save: Path | None) -> str:
    """The LR recipe's left-out table over frozen features, with the bundle's penalties (chosen
    anew if it has none); a hybrid bundle's tuned part has its own table (`guard finetune
    --loso`)."""
    from perception.llm.guard.train import TrainOptions, choose_l2, loso_lr

    options = TrainOptions(l2_by_task=tuple(meta.get("l2_by_task", {}).items()))
    options = options if options.l2_by_task else choose_l2(rows, feats, options)
    return _write_loso(loso_lr(rows, feats, options), save)


def _write_loso(report, save: Path | None) -> str:
    """The table's text, also written to ``save``.txt and .json when given."""
    from perception.llm.guard.loso import format_loso, loso_json

    text = format_loso(report)
    if save:
        save.parent.mkdir(parents=True, exist_ok=True)
        save.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
        save.with_suffix(".json").write_text(loso_json(report), encoding="utf-8")
    return text


def _latency(detectors, texts: list[str]) -> str:
    """Median wall time of one prompt check (embedding + every prompt detector), one by one."""
    from perception.llm.guard.evaluate import check_latency_ms

    times = check_latency_ms(detectors, texts)
    chars = statistics.median(len(t) for t in texts)
    return (
        f"latency per prompt check on CPU: median {statistics.median(times):.1f} ms, "
        f"max {max(times):.1f} ms over {len(texts)} benign texts (median {chars:.0f} characters)"
    )


def _train(args: argparse.Namespace) -> int:
    from perception.llm.guard.detectors import LR_BUNDLE, WEIGHTS_DIR
    from perception.llm.guard.evaluate import format_report
    from perception.llm.guard.train import TrainOptions, save_trained, train

    options = TrainOptions(target_fpr=args.target_fpr)
    heads, rows, options = train(args.data, options)
    out = args.out or WEIGHTS_DIR / f"{LR_BUNDLE}.pt"
    report = save_trained(heads, rows, args.data, options, out)
    print(format_report(report))
    print(f"wrote {out} and {out.with_suffix('.yaml')}", file=sys.stderr)
    return 0


def _finetune(args: argparse.Namespace) -> int:
    from perception.llm.guard import finetune as ft
    from perception.llm.guard.detectors import DEFAULT_BUNDLE, WEIGHTS_DIR
    from perception.llm.guard.evaluate import format_report
    from perception.llm.guard.features import Embedder
    from perception.llm.guard.loso import run_loso, spread_groups
    from perception.llm.guard.train import TrainOptions, train

    options = ft.FinetuneOptions(features=ft.tuned_features(args.layers), epochs=args.epochs)
    lr_heads, rows, lr_options = train(args.data, TrainOptions())
    cache = ft.BottomCache(Embedder(), args.layers)
    if args.loso:
        recipe = f"MiniLM top {args.layers} layers fine-tuned, {args.epochs} epochs"
        groups = spread_groups(rows, args.loso)
        report = run_loso(rows, ft.tuned_fitter(cache, options), recipe, groups)
        print(_write_loso(report, args.save_loso))
    net, tuned_heads = ft.finetune(rows, cache, options)
    use = tuple(args.tuned_detectors.split(","))
    heads = ft.hybrid_heads(lr_heads, tuned_heads, use)
    meta = {"tuned_detectors": list(use), "l2_by_task": dict(lr_options.l2_by_task)}
    out = args.out or WEIGHTS_DIR / f"{DEFAULT_BUNDLE}.pt"
    print(format_report(ft.save_hybrid(net, heads, rows, args.data, options, meta, out)))
    print(f"wrote {out} and {out.with_suffix('.yaml')}", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    from perception.llm.guard import written
    from perception.llm.guard.detectors import Detectors
    from perception.llm.guard.export import export_embedder, parity

    detectors = Detectors(_detector_options(args))
    path = export_embedder(detectors.embedder, args.out)
    texts = [t for fam in written.INJECTION.values() for t in written.expand(fam, 2)]
    texts += [t for fam in written.BENIGN_EDGY.values() for t in written.expand(fam, 2)]
    diffs = parity(detectors.embedder, detectors.bundle.heads, path, texts)
    print(
        f"wrote {path}; torch vs onnxruntime on {len(texts)} texts: "
        + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items())
    )
    return 0 if diffs["prob_max_abs_diff"] < 1e-4 else 1


def _eval_cuff(args: argparse.Namespace) -> int:
    import dataclasses

    from perception.llm.guard import cuff_eval
    from perception.llm.safety import ADAPTER, BASE

    o = cuff_eval.CuffEvalOptions(args.jailbreaks, args.benign_dev, args.benign_test)
    o = dataclasses.replace(
        o, cuff=dataclasses.replace(o.cuff, max_new_tokens=args.max_new_tokens)
    )
    rows = cuff_eval.evaluate_cuff(args.data, o, [(BASE, ""), (BASE, ADAPTER)])
    print(cuff_eval.format_cuff(rows, o))
    if args.save:
        cuff_eval.save_thresholds(rows, o)
    return 0
