"""The speech benchmark: calibrate on one split, tune on another, measure on the third.

Owns the experiment's steps, in order: render the data (if needed); measure what trimming the
encoder input costs (dev); fit UADF's two temperatures (calibration split); tune the static
fusion weight (dev); run AM-only, GER, static fusion and UADF on the test split from one shared
N-best per utterance; report WER overall and per group with the worst group named, and the
compute latency of each method. Nothing is tuned on the test split.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from perception.audio import SAMPLE_RATE
from perception.config import to_dict
from perception.eval.groups import GroupReport, by_group, format_report
from perception.eval.wer import count_errors, normalizer_for
from perception.speech.api import SpeechOptions, SpeechRecognizer
from perception.speech.dataset import Item, build_dataset, load_item_audio
from perception.speech.fusion import Calibration, fit_temperature
from perception.speech.ger import prompt_ids
from perception.speech.types import Fusion

METHODS: tuple[Fusion, ...] = ("none", "ger", "static", "uadf")
LABELS = {"none": "AM-only", "ger": "GER", "static": "static fusion", "uadf": "UADF"}


@dataclass(frozen=True)
class EvalOptions:
    """What to run; ``limit`` caps each split's size for quick checks and ``dev_limit`` the dev
    items used for the trimming check and the static-weight search (None = all)."""

    data_dir: Path
    seed: int = 0
    static_grid: tuple[float, ...] = (0.25, 0.5, 1.0)
    limit: int | None = None
    dev_limit: int | None = 30
    test_every: int = 1  # keep every n-th test item (a deterministic, stratified subsample)
    speech: SpeechOptions = field(default_factory=SpeechOptions)


@dataclass(frozen=True)
class Scored:
    """One test utterance: reference, groups, and each method's text and compute time."""

    item: Item
    duration_s: float
    nbest: tuple[str, ...]
    texts: dict[str, str]
    latency_ms: dict[str, float]


def _wer(pairs: list[tuple[str, str]], language: str) -> float:
    norm = normalizer_for(language)
    counts = [count_errors(r, h, normalizer=norm) for r, h in pairs]
    return sum(c.edits for c in counts) / max(sum(c.words for c in counts), 1)


def _audio(root: Path, item: Item) -> np.ndarray:
    return load_item_audio(root, item)


def calibrate(rec: SpeechRecognizer, root: Path, items: list[Item]) -> dict[str, Calibration]:
    """Fit one temperature per model on teacher-forced reference tokens (UADF §3)."""
    asr_logits, asr_targets, llm_logits, llm_targets = [], [], [], []
    lm, stops = rec.corrector.lm, sorted(rec.corrector.stops)
    for item in tqdm(items, desc="calibration"):
        decoded = rec.decode(_audio(root, item))
        tokens = rec.acoustic.text_tokens(item.text)
        asr_logits.append(rec.acoustic.teacher_forced_logits(decoded.features, tokens))
        asr_targets.append(torch.tensor(tokens + [rec.acoustic.tokenizer.eot]))
        prompt = prompt_ids(lm, [h.text for h in decoded.nbest], rec.options.llm)
        answer = lm.tokenizer.encode(item.text, add_special_tokens=False) + [stops[0]]
        full = torch.cat([prompt, torch.tensor([answer], device=prompt.device)], dim=1)
        with torch.no_grad():
            logits = lm.model(input_ids=full).logits[0].float()
        p = prompt.shape[1]
        llm_logits.append(logits[p - 1 : p - 1 + len(answer)])
        llm_targets.append(torch.tensor(answer))
    return {
        "asr": fit_temperature(torch.cat(asr_logits), torch.cat(asr_targets)),
        "llm": fit_temperature(torch.cat(llm_logits), torch.cat(llm_targets)),
    }


def tune_static(
    rec: SpeechRecognizer, root: Path, items: list[Item], grid: tuple[float, ...]
) -> tuple[float, dict[float, float]]:
    """The static weight with the lowest dev WER (ties: the smaller weight)."""
    decoded = [(it, rec.decode(_audio(root, it))) for it in tqdm(items, desc="dev decode")]
    table = {}
    for weight in grid:
        rec.update(static_weight=weight)
        pairs = [
            (it.text, rec.fuse(d, "static"))
            for it, d in tqdm(decoded, desc=f"dev static w={weight}")
        ]
        table[weight] = _wer(pairs, "en" if rec.acoustic.language == "en" else "")
    best = min(table, key=lambda w: (table[w], w))
    return best, table


def measure_trim(options: SpeechOptions, root: Path, items: list[Item]) -> dict[str, dict]:
    """AM-only WER and encode + beam-search time by encoder input length (dev): Whisper's 30 s
    window, the default minimum window, and the utterance alone (plus 1 s)."""
    out = {}
    windows = {
        "30 s window": 30.0,
        f"{options.encoder_window_s:g} s minimum": options.encoder_window_s,
        "utterance + 1 s": 1.0,
    }
    for label, window in windows.items():
        rec = SpeechRecognizer(
            dataclasses.replace(options, encoder_window_s=window, fusion="none")
        )
        pairs, times = [], []
        for item in tqdm(items, desc=f"dev {label}"):
            t0 = time.perf_counter()
            decoded = rec.decode(_audio(root, item))
            times.append((time.perf_counter() - t0) * 1e3)
            pairs.append((item.text, rec.fuse(decoded, "none")))
        out[label] = {"wer": _wer(pairs, "en"), "median_ms": float(np.median(times))}
    return out


def run_test(rec: SpeechRecognizer, root: Path, items: list[Item]) -> list[Scored]:
    """Every method on every test item, from one shared N-best per utterance."""
    scored = []
    for item in tqdm(items, desc="test"):
        audio = _audio(root, item)
        t0 = time.perf_counter()
        decoded = rec.decode(audio)
        am_ms = (time.perf_counter() - t0) * 1e3
        texts, latency = {}, {}
        for method in METHODS:
            t1 = time.perf_counter()
            texts[method] = rec.fuse(decoded, method)
            latency[method] = am_ms + (time.perf_counter() - t1) * 1e3
        scored.append(
            Scored(
                item,
                len(audio) / SAMPLE_RATE,
                tuple(h.text for h in decoded.nbest),
                texts,
                latency,
            )
        )
    return scored


def group_reports(scored: list[Scored], method: str) -> dict[str, GroupReport]:
    """WER of one method overall and by voice, noise condition, SNR and sentence kind."""

    def wer(xs: list[Scored]) -> float:
        return _wer([(s.item.text, s.texts[method]) for s in xs], "en")

    groupings = {
        "voice": lambda s: s.item.voice,
        "snr": lambda s: s.item.snr_group,
        "noise": lambda s: f"{s.item.noise} {s.item.snr_group}",
        "kind": lambda s: s.item.kind,
    }
    return {
        name: by_group(scored, g, wer, f"WER {LABELS[method]} by {name}", False)
        for name, g in groupings.items()
    }


def summary_table(scored: list[Scored]) -> str:
    """One line per method: WER overall, worst SNR group, latency median and p90."""
    lines = [f"{'method':15} {'WER':>7} {'worst SNR group':>24} {'median ms':>10} {'p90 ms':>8}"]
    for method in METHODS:
        snr = group_reports(scored, method)["snr"]
        lat = [s.latency_ms[method] for s in scored]
        worst = f"{snr.worst_group} {snr.per_group[snr.worst_group] * 100:.1f}%"
        lines.append(
            f"{LABELS[method]:15} {snr.overall * 100:6.2f}% {worst:>24} "
            f"{np.median(lat):10.0f} {np.percentile(lat, 90):8.0f}"
        )
    return "\n".join(lines)


def command_latency(scored: list[Scored], target_s: float = 4.0) -> dict[str, float]:
    """Median compute latency (end of speech → final text, VAD hangover excluded) per method
    for utterances within ±1 s of ``target_s``."""
    near = [s for s in scored if abs(s.duration_s - target_s) <= 1.0]
    return {
        m: float(np.median([s.latency_ms[m] for s in near])) if near else float("nan")
        for m in METHODS
    }


def run_eval(options: EvalOptions, out_json: Path | None = None) -> dict:
    """The whole benchmark; returns (and optionally writes) a JSON-able report."""
    torch.manual_seed(options.seed)
    data = build_dataset(options.data_dir, options.seed)
    cut = (lambda xs: xs[: options.limit]) if options.limit else (lambda xs: xs)
    cal, dev, test = cut(data["calibration"]), cut(data["dev"]), cut(data["test"])
    dev = dev[: options.dev_limit] if options.dev_limit else dev
    test = test[:: options.test_every]
    trim = measure_trim(options.speech, options.data_dir, dev)
    rec = SpeechRecognizer(dataclasses.replace(options.speech, fusion="uadf"))
    temps = calibrate(rec, options.data_dir, cal)
    rec.update(asr_temperature=temps["asr"].temperature, llm_temperature=temps["llm"].temperature)
    weight, dev_table = tune_static(rec, options.data_dir, dev, options.static_grid)
    rec.update(static_weight=weight)
    scored = run_test(rec, options.data_dir, test)
    report = {
        "splits": {"calibration": len(cal), "dev": len(dev), "test": len(test)},
        "encoder_trim_dev": trim,
        "calibration": {k: to_dict(v) for k, v in temps.items()},
        "static_weight_dev": {"chosen": weight, "wer_by_weight": dev_table},
        "test": {
            m: {name: to_dict(r) for name, r in group_reports(scored, m).items()} for m in METHODS
        },
        "latency_4s_command_ms": command_latency(scored),
        "summary": summary_table(scored),
        "utterances": [
            {
                "id": s.item.id,
                "ref": s.item.text,
                "nbest": s.nbest,
                "texts": s.texts,
                "latency_ms": s.latency_ms,
            }
            for s in scored
        ],
    }
    if out_json:
        out_json.parent.mkdir(parents=True, exist_ok=True)
        out_json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return report


def format_eval(report: dict) -> str:
    """The text a person reads: trim check, calibration, tuning, WER table, groups, latency."""
    lines = ["encoder input (dev, AM-only):"]
    for name, r in report["encoder_trim_dev"].items():
        lines.append(f"  {name:12} WER {r['wer'] * 100:6.2f}%  median {r['median_ms']:.0f} ms")
    for model, c in report["calibration"].items():
        lines.append(
            f"calibration {model}: T={c['temperature']:.3f} token acc "
            f"{c['token_accuracy']:.3f} conf {c['confidence_before']:.3f}→"
            f"{c['confidence_after']:.3f} ECE {c['ece_before']:.3f}→{c['ece_after']:.3f}"
            f" ({c['tokens']} tokens)"
        )
    s = report["static_weight_dev"]
    lines.append(
        f"static weight (dev): {s['chosen']} from "
        + ", ".join(f"{w}: {v * 100:.2f}%" for w, v in s["wer_by_weight"].items())
    )
    lines += ["", f"test split ({report['splits']['test']} utterances):", report["summary"], ""]
    for groups in report["test"].values():
        for name in ("voice", "noise", "kind"):
            lines.append(format_report(GroupReport(**groups[name])))
    lines.append(
        "compute latency, ~4 s commands (median ms): "
        + ", ".join(f"{LABELS[m]} {v:.0f}" for m, v in report["latency_4s_command_ms"].items())
    )
    return "\n".join(lines)
