"""The speech benchmark: calibrate on one split, tune on another, measure on the third.

Owns the experiment's steps, in order: render the data (if needed); fit UADF's two temperatures
(calibration split); on dev, tune the guards' acceptance margin and the static fusion weight;
run AM-only, GER, static fusion and UADF on the whole test split from one shared N-best per
utterance (GER and UADF also without guards, to show what the guards change); report WER
overall and per group (voice, noise, speed, room effect, sentence kind) with the worst group
named, each method's paired bootstrap 95% interval of its WER difference to AM-only, and the
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
from perception.eval.bootstrap import paired_difference
from perception.eval.groups import GroupReport, by_group
from perception.eval.wer import count_errors, normalizer_for
from perception.speech import calibration
from perception.speech.api import Decoded, SpeechOptions, SpeechRecognizer
from perception.speech.dataset import VERSION, Item, build_dataset, load_item_audio
from perception.speech.fusion import Calibration, fit_temperature
from perception.speech.ger import example_lines, prompt_ids
from perception.speech.guards import Verdict, acoustic_check, echoes_prompt

METHODS = ("none", "ger", "static", "uadf")
UNGUARDED = ("ger", "uadf")  # also run with the guards off, on the test split
LABELS = {
    "none": "AM-only",
    "ger": "GER",
    "static": "static fusion",
    "uadf": "UADF",
    "ger-unguarded": "GER, no guards",
    "uadf-unguarded": "UADF, no guards",
}
GROUPINGS = {
    "voice": lambda s: s.item.voice,
    "noise": lambda s: f"{s.item.noise} {s.item.snr_group}",
    "speed": lambda s: s.item.speed_group,
    "effect": lambda s: s.item.effect,
    "kind": lambda s: s.item.kind,
}
MAX_GROUP_LOSS = 0.01  # a margin is admissible when no dev group loses more WER than this


@dataclass(frozen=True)
class EvalOptions:
    """What to run; ``limit`` caps each split's size for quick checks, ``test_every`` keeps
    every n-th test item, ``am_variants`` also measures AM-only decoding variants on dev."""

    data_dir: Path
    seed: int = 0
    static_grid: tuple[float, ...] = (0.25, 0.5, 1.0)
    # negative margins ask the LLM's text to outscore the best hypothesis by that much
    margin_grid: tuple[float, ...] = (-0.3, -0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2, 0.5, 1.0)
    limit: int | None = None
    test_every: int = 1
    am_variants: bool = False
    speech: SpeechOptions = field(default_factory=SpeechOptions)


@dataclass(frozen=True)
class Proposal:
    """One method's LLM text on one utterance and what the guards would say at any margin."""

    llm_text: str
    echo: bool
    verdict: Verdict  # at margin 0; its scores decide any other margin

    def final(self, best: str, margin: float) -> str:
        if self.echo:
            return best
        v = self.verdict
        keep = v.accepted or (np.isfinite(v.llm_score) and v.llm_score >= v.best_score - margin)
        return self.llm_text if keep else best


@dataclass(frozen=True)
class Scored:
    """One utterance: reference, groups, and each method's text and compute time."""

    item: Item
    duration_s: float
    nbest: tuple[str, ...]
    texts: dict[str, str]
    latency_ms: dict[str, float]
    guards: dict[str, str] = field(default_factory=dict)  # each method's guard verdict


def _wer(pairs: list[tuple[str, str]]) -> float:
    norm = normalizer_for("en")
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
        logits = rec.acoustic.teacher_forced_logits(decoded.features, tokens)
        asr_logits.append(logits.cpu())
        asr_targets.append(torch.tensor(tokens + [rec.acoustic.tokenizer.eot]))
        prompt = prompt_ids(lm, [h.text for h in decoded.nbest], rec.options.llm)
        answer = lm.tokenizer.encode(item.text, add_special_tokens=False) + [stops[0]]
        full = torch.cat([prompt, torch.tensor([answer], device=prompt.device)], dim=1)
        with torch.no_grad():
            out = lm.model(input_ids=full).logits[0].float()
        p = prompt.shape[1]
        llm_logits.append(out[p - 1 : p - 1 + len(answer)].cpu())
        llm_targets.append(torch.tensor(answer))
    return {
        "asr": fit_temperature(torch.cat(asr_logits), torch.cat(asr_targets)),
        "llm": fit_temperature(torch.cat(llm_logits), torch.cat(llm_targets)),
    }


def propose(rec: SpeechRecognizer, decoded: Decoded, method: str) -> Proposal:
    """The method's LLM text and the guards' scores of it (margin chosen later)."""
    texts = [h.text for h in decoded.nbest]
    llm_text = rec.propose(decoded, method) if texts else ""
    best = texts[0] if texts else ""
    echo = echoes_prompt(llm_text, texts, example_lines(rec.options.llm))
    verdict = acoustic_check(rec.acoustic, decoded.features, best, llm_text, 0.0)
    return Proposal(llm_text, echo, verdict)


@dataclass(frozen=True)
class DevItem:
    item: Item
    best: str
    proposals: dict[str, Proposal]  # "ger", "uadf", "static@0.5", ...


def dev_proposals(
    rec: SpeechRecognizer, root: Path, items: list[Item], grid: tuple[float, ...]
) -> list[DevItem]:
    """Every method's proposal on every dev item (static fusion once per grid weight)."""
    out = []
    for item in tqdm(items, desc="dev"):
        decoded = rec.decode(_audio(root, item))
        best = decoded.nbest[0].text if decoded.nbest else ""
        props = {m: propose(rec, decoded, m) for m in ("ger", "uadf")}
        for weight in grid:
            rec.update(static_weight=weight)
            props[f"static@{weight:g}"] = propose(rec, decoded, "static")
        out.append(DevItem(item, best, props))
    return out


def _dev_scored(dev: list[DevItem], key: str, margin: float) -> list[Scored]:
    return [
        Scored(d.item, 0.0, (), {"none": d.best, "m": d.proposals[key].final(d.best, margin)}, {})
        for d in dev
    ]


def _worst_loss(scored: list[Scored]) -> float:
    """The largest WER increase of "m" over AM-only in any group of any grouping."""
    loss = 0.0
    for grouping in GROUPINGS.values():
        m = by_group(
            scored, grouping, lambda xs: _wer([(s.item.text, s.texts["m"]) for s in xs]), "", False
        )
        am = by_group(
            scored,
            grouping,
            lambda xs: _wer([(s.item.text, s.texts["none"]) for s in xs]),
            "",
            False,
        )
        loss = max(loss, *(m.per_group[g] - am.per_group[g] for g in m.per_group))
    return loss


def tune_dev(dev: list[DevItem], margins: tuple[float, ...], weights: tuple[float, ...]) -> dict:
    """The acceptance margin, then the static weight, by dev WER.

    A margin is admissible when neither GER nor UADF loses more than 1 point of WER against
    AM-only in any dev group; among those, the lowest UADF WER wins (ties: the smaller margin).
    """
    table = {}
    for margin in margins:
        row = {
            k: _wer([(s.item.text, s.texts["m"]) for s in _dev_scored(dev, k, margin)])
            for k in ("ger", "uadf")
        }
        row["worst_group_loss"] = max(_worst_loss(_dev_scored(dev, k, margin)) for k in UNGUARDED)
        table[margin] = row
    admissible = [m for m in margins if table[m]["worst_group_loss"] <= MAX_GROUP_LOSS]
    margin = min(admissible or [min(margins)], key=lambda m: (table[m]["uadf"], m))
    static = {
        w: _wer([(s.item.text, s.texts["m"]) for s in _dev_scored(dev, f"static@{w:g}", margin)])
        for w in weights
    }
    weight = min(static, key=lambda w: (static[w], w))
    am = _wer([(d.item.text, d.best) for d in dev])
    return {
        "am_only_wer": am,
        "by_margin": table,
        "margin": margin,
        "static_by_weight": static,
        "static_weight": weight,
    }


def run_test(rec: SpeechRecognizer, root: Path, items: list[Item]) -> list[Scored]:
    """Every method on every test item, from one shared N-best per utterance."""
    guards = rec.options.guards
    scored = []
    for item in tqdm(items, desc="test"):
        audio = _audio(root, item)
        t0 = time.perf_counter()
        decoded = rec.decode(audio)
        am_ms = (time.perf_counter() - t0) * 1e3
        texts, latency, verdicts = {}, {}, {}
        for method in METHODS:
            t1 = time.perf_counter()
            fused = rec.fuse(decoded, method)
            latency[method] = am_ms + (time.perf_counter() - t1) * 1e3
            texts[method], verdicts[method] = fused.text, fused.guard
        rec.update(guards=dataclasses.replace(guards, enabled=False))
        for method in UNGUARDED:
            t1 = time.perf_counter()
            texts[f"{method}-unguarded"] = rec.fuse(decoded, method).text
            latency[f"{method}-unguarded"] = am_ms + (time.perf_counter() - t1) * 1e3
        rec.update(guards=guards)
        nbest = tuple(h.text for h in decoded.nbest)
        scored.append(Scored(item, len(audio) / SAMPLE_RATE, nbest, texts, latency, verdicts))
    return scored


def group_reports(scored: list[Scored], method: str) -> dict[str, GroupReport]:
    """WER of one method overall and by voice, noise condition, speed, effect and kind."""

    def wer(xs: list[Scored]) -> float:
        return _wer([(s.item.text, s.texts[method]) for s in xs])

    return {
        name: by_group(scored, g, wer, f"WER {LABELS.get(method, method)} by {name}", False)
        for name, g in GROUPINGS.items()
    }


def versus_am(scored: list[Scored], method: str, seed: int = 0) -> dict[str, float]:
    """Paired bootstrap of (WER of ``method`` − WER of AM-only) over test utterances."""
    norm = normalizer_for("en")
    edits = {
        m: np.array([count_errors(s.item.text, s.texts[m], normalizer=norm).edits for s in scored])
        for m in ("none", method)
    }
    words = np.array([count_errors(s.item.text, "", normalizer=norm).words for s in scored])
    return to_dict(paired_difference(edits[method], edits["none"], words, seed=seed))


def worst_group_loss(scored: list[Scored], method: str) -> dict[str, object]:
    """The group where ``method`` loses most WER against AM-only, and how much."""
    worst = ("", "", -1.0)
    for name in GROUPINGS:
        m, am = group_reports(scored, method)[name], group_reports(scored, "none")[name]
        for g in m.per_group:
            loss = m.per_group[g] - am.per_group[g]
            if loss > worst[2]:
                worst = (name, g, loss)
    return {"grouping": worst[0], "group": worst[1], "wer_loss": worst[2]}


def command_latency(scored: list[Scored], target_s: float = 4.0) -> dict[str, float]:
    """Median compute latency (end of speech → final text, VAD hangover excluded) per method
    for utterances within ±1 s of ``target_s``."""
    near = [s for s in scored if abs(s.duration_s - target_s) <= 1.0]
    methods = list(scored[0].latency_ms) if scored else list(METHODS)
    return {
        m: float(np.median([s.latency_ms[m] for s in near])) if near else float("nan")
        for m in methods
    }


def summary_table(scored: list[Scored], seed: int = 0) -> str:
    """One line per method: WER, difference to AM-only with its 95% interval, worst group
    loss, latency median and p90."""
    lines = [
        f"{'method':17} {'WER':>7} {'Δ vs AM-only [95% CI]':>28} {'worst group loss':>28} "
        f"{'median ms':>10} {'p90 ms':>7}"
    ]
    for method in scored[0].texts:
        wer = _wer([(s.item.text, s.texts[method]) for s in scored])
        lat = [s.latency_ms[method] for s in scored]
        if method == "none":
            delta, loss = "", ""
        else:
            d = versus_am(scored, method, seed)
            delta = f"{d['difference'] * 100:+.2f} [{d['low'] * 100:+.2f}, {d['high'] * 100:+.2f}]"
            w = worst_group_loss(scored, method)
            loss = f"{w['group']} {w['wer_loss'] * 100:+.2f}"
        lines.append(
            f"{LABELS[method]:17} {wer * 100:6.2f}% {delta:>28} {loss:>28} "
            f"{np.median(lat):10.0f} {np.percentile(lat, 90):7.0f}"
        )
    return "\n".join(lines)


def am_variants(options: SpeechOptions, root: Path, items: list[Item]) -> dict[str, dict]:
    """AM-only WER and decode time on dev for encoder windows and timestamp decoding."""
    variants = {
        "10 s window, timestamps": (10.0, True),
        "10 s window, no timestamps": (10.0, False),
        "30 s window, timestamps": (30.0, True),
        "utterance + 1 s, timestamps": (1.0, True),
    }
    out = {}
    for label, (window, timestamps) in variants.items():
        asr = dataclasses.replace(options.asr, timestamps=timestamps)
        rec = SpeechRecognizer(
            dataclasses.replace(options, asr=asr, encoder_window_s=window, fusion="none")
        )
        pairs, times = [], []
        for item in tqdm(items, desc=f"dev {label}"):
            t0 = time.perf_counter()
            decoded = rec.decode(_audio(root, item))
            times.append((time.perf_counter() - t0) * 1e3)
            pairs.append((item.text, rec.fuse(decoded, "none").text))
        out[label] = {"wer": _wer(pairs), "median_ms": float(np.median(times))}
    return out


def fit(options: EvalOptions) -> tuple[SpeechRecognizer, dict, calibration.CalibrationFile]:
    """Temperatures on the calibration split, margin and static weight on dev."""
    torch.manual_seed(options.seed)
    data = build_dataset(options.data_dir, options.seed)
    cut = (lambda xs: xs[: options.limit]) if options.limit else (lambda xs: xs)
    cal, dev = cut(data["calibration"]), cut(data["dev"])
    rec = SpeechRecognizer(dataclasses.replace(options.speech, fusion="uadf"))
    temps = calibrate(rec, options.data_dir, cal)
    rec.update(asr_temperature=temps["asr"].temperature, llm_temperature=temps["llm"].temperature)
    tuned = tune_dev(
        dev_proposals(rec, options.data_dir, dev, options.static_grid),
        options.margin_grid,
        options.static_grid,
    )
    margin = tuned["margin"]
    rec.update(
        static_weight=tuned["static_weight"],
        guards=dataclasses.replace(rec.options.guards, acceptance_margin=margin),
    )
    o = options.speech
    store = rec.store
    cal_file = calibration.CalibrationFile(
        asr_model=o.asr.model,
        asr_sha256=calibration.model_fingerprint(o.asr.model, store),
        llm_model=calibration.llm_name(o.llm.model, o.llm.adapter),
        llm_sha256=calibration.llm_fingerprint(o.llm.model, o.llm.adapter, store),
        asr_temperature=temps["asr"].temperature,
        llm_temperature=temps["llm"].temperature,
        static_weight=tuned["static_weight"],
        acceptance_margin=margin,
        fitted_on={
            "data": "perception.speech.dataset (espeak-ng + flite, degraded and noisy)",
            "dataset_version": VERSION,
            "seed": options.seed,
            "calibration_items": len(cal),
            "dev_items": len(dev),
            "temperatures": {k: to_dict(v) for k, v in temps.items()},
            "dev_tuning": tuned,
        },
    )
    return rec, {"splits": {"calibration": len(cal), "dev": len(dev)}}, cal_file


def run_eval(options: EvalOptions, out_dir: Path | None = None) -> dict:
    """The whole benchmark; returns (and optionally writes) a JSON-able report and the
    calibration file it fitted."""
    rec, report, cal_file = fit(options)
    data = build_dataset(options.data_dir, options.seed)
    test = data["test"][: options.limit] if options.limit else data["test"]
    test = test[:: options.test_every]
    if options.am_variants:
        dev = data["dev"][: options.limit] if options.limit else data["dev"]
        report["am_variants_dev"] = am_variants(options.speech, options.data_dir, dev)
    scored = run_test(rec, options.data_dir, test)
    methods = list(scored[0].texts)
    report["splits"]["test"] = len(test)
    report.update(
        calibration=to_dict(cal_file),
        test={m: {n: to_dict(r) for n, r in group_reports(scored, m).items()} for m in methods},
        versus_am_only={m: versus_am(scored, m, options.seed) for m in methods if m != "none"},
        worst_group_loss={m: worst_group_loss(scored, m) for m in methods if m != "none"},
        latency_4s_command_ms=command_latency(scored),
        summary=summary_table(scored, options.seed),
        utterances=[
            {
                "id": s.item.id,
                "ref": s.item.text,
                "nbest": s.nbest,
                "texts": s.texts,
                "guards": s.guards,
                "latency_ms": s.latency_ms,
            }
            for s in scored
        ],
    )
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(report, indent=1, ensure_ascii=False)
        (out_dir / "asr_eval.json").write_text(text, encoding="utf-8")
        calibration.write(cal_file, out_dir)
    return report


def group_table(test: dict[str, dict]) -> list[str]:
    """WER per group, one row per group and one column per method, worst group marked."""
    methods = list(test)
    head = f"{'group':22} {'n':>4} " + " ".join(f"{LABELS[m][:15]:>15}" for m in methods)
    lines = []
    for name in GROUPINGS:
        reports = {m: GroupReport(**test[m][name]) for m in methods}
        first = reports[methods[0]]
        lines += [f"WER by {name}", head]
        for group, n in first.counts.items():
            cells = []
            for m in methods:
                r = reports[m]
                mark = "*" if group == r.worst_group else " "
                cells.append(f"{r.per_group[group] * 100:13.2f}%{mark}")
            lines.append(f"  {group:20} {n:4d} " + " ".join(cells))
        lines.append("")
    lines.append("* = worst group of that method")
    return lines


def format_eval(report: dict) -> str:
    """The text a person reads: calibration, tuning, WER table, groups, latency."""
    cal = report["calibration"]
    lines = []
    for model, c in cal["fitted_on"]["temperatures"].items():
        lines.append(
            f"calibration {model}: T={c['temperature']:.3f} token acc "
            f"{c['token_accuracy']:.3f} conf {c['confidence_before']:.3f}→"
            f"{c['confidence_after']:.3f} ECE {c['ece_before']:.3f}→{c['ece_after']:.3f}"
            f" ({c['tokens']} tokens)"
        )
    t = cal["fitted_on"]["dev_tuning"]
    lines.append(
        f"dev AM-only WER {t['am_only_wer'] * 100:.2f}%; acceptance margin (nats/token; "
        "negative = the LLM's text must outscore the best hypothesis by that much):"
    )
    for m, row in t["by_margin"].items():
        lines.append(
            f"  {float(m):+5.2f}: GER {row['ger'] * 100:6.2f}%  UADF {row['uadf'] * 100:6.2f}%  "
            f"worst group loss {row['worst_group_loss'] * 100:+.2f}"
        )
    lines.append(f"  chosen {t['margin']}")
    lines.append(
        f"static weight (dev): {t['static_weight']} from "
        + ", ".join(f"{w}: {v * 100:.2f}%" for w, v in t["static_by_weight"].items())
    )
    for label, r in report.get("am_variants_dev", {}).items():
        lines.append(
            f"AM-only dev, {label:30} WER {r['wer'] * 100:6.2f}%  {r['median_ms']:.0f} ms"
        )
    lines += ["", f"test split ({report['splits']['test']} utterances):", report["summary"], ""]
    lines += group_table(report["test"])
    lines.append(
        "compute latency, ~4 s commands (median ms): "
        + ", ".join(f"{LABELS[m]} {v:.0f}" for m, v in report["latency_4s_command_ms"].items())
    )
    return "\n".join(lines)
