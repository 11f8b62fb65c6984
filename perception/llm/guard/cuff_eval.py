"""Evaluating Gradient Cuff: the stage-2 threshold for a stated FPR on benign dev prompts, TPR on
the held-out jailbreak families, FPR on held-out benign prompts, and the cost as a multiple of
one reply, per LLM (with and without the safety adapter). Thresholds are written to
``weights/gradient-cuff.yaml`` (keyed by model id), which :class:`Screen` reads.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import yaml

from perception.llm.causal_lm import load_causal_lm
from perception.llm.chat import generate, messages
from perception.llm.guard.data import Row, load_rows
from perception.llm.guard.gradient_cuff import CuffOptions, CuffResult, GradientCuff
from perception.llm.guard.heads import threshold_at_fpr

THRESHOLDS = Path(__file__).resolve().parent / "weights" / "gradient-cuff.yaml"


@dataclass(frozen=True)
class CuffEvalOptions:
    """How many prompts of each set (short ones: at most ``max_chars``) and the target FPR."""

    jailbreaks: int = 12
    benign_dev: int = 20
    benign_test: int = 12
    max_chars: int = 400
    target_fpr: float = 0.05
    cuff: CuffOptions = field(default_factory=CuffOptions)


@dataclass(frozen=True)
class CuffRow:
    model: str
    norm_threshold: float
    tpr: float  # jailbreak prompts rejected (either stage)
    stage1_tpr: float  # rejected by the refusal stage alone
    fpr: float  # held-out benign prompts rejected
    cost_ratio: float  # median check time / median time of one reply of the same length
    jailbreaks: int
    benign_test: int


def _spread(rows: list[Row], n: int, seed: int) -> list[str]:
    """``n`` texts drawn round-robin across families, so every family is represented."""
    rng, by_family = random.Random(seed), {}
    for r in rows:
        by_family.setdefault(r.family, []).append(r.text)
    pools = [rng.sample(v, len(v)) for _, v in sorted(by_family.items())]
    out: list[str] = []
    while len(out) < n and any(pools):
        for pool in pools:
            if pool and len(out) < n:
                out.append(pool.pop())
    return out


def prompt_sets(rows: list[Row], o: CuffEvalOptions) -> dict[str, list[str]]:
    short = [r for r in rows if len(r.text) <= o.max_chars]
    benign = ("self-instruct", "benign-edgy", "benign-robot", "benign-roleplay")

    def pick(kind: str, split: str, sources: tuple[str, ...]) -> list[Row]:
        return [
            r
            for r in short
            if r.kind == kind and r.split == split and (not sources or r.source in sources)
        ]

    return {
        "jailbreak": _spread(pick("jailbreak", "test", ()), o.jailbreaks, 0),
        "benign_dev": _spread(pick("benign", "dev", benign), o.benign_dev, 1),
        "benign_test": _spread(pick("benign", "test", benign), o.benign_test, 2),
    }


def _run(cuff: GradientCuff, texts: list[str]) -> tuple[list[CuffResult], list[float]]:
    results, times = [], []
    for text in texts:
        start = time.perf_counter()
        results.append(cuff.check(text))
        times.append(time.perf_counter() - start)
    return results, times


def evaluate_model(
    model: str, adapter: str, sets: dict[str, list[str]], o: CuffEvalOptions
) -> CuffRow:
    lm = load_causal_lm(model, adapter=adapter)
    cuff = GradientCuff(lm, o.cuff)
    dev, _ = _run(cuff, sets["benign_dev"])
    passed = [r.gradient_norm for r in dev if r.stage != "refusal"]
    threshold = threshold_at_fpr(np.array(passed), o.target_fpr) if passed else float("inf")
    cuff = GradientCuff(lm, replace(o.cuff, norm_threshold=threshold))
    jail, times = _run(cuff, sets["jailbreak"])
    test, _ = _run(cuff, sets["benign_test"])
    reply_times = []
    for text in sets["jailbreak"]:
        start = time.perf_counter()
        generate(lm, [messages(text, o.cuff.system_prompt)], o.cuff.max_new_tokens)
        reply_times.append(time.perf_counter() - start)
    name = f"{model}+{adapter}" if adapter else model
    return CuffRow(
        name,
        threshold,
        float(np.mean([r.rejected for r in jail])),
        float(np.mean([r.stage == "refusal" for r in jail])),
        float(np.mean([r.rejected for r in test])),
        statistics.median(times) / statistics.median(reply_times),
        len(jail),
        len(test),
    )


def evaluate_cuff(
    folder: Path | None, o: CuffEvalOptions, models: list[tuple[str, str]]
) -> list[CuffRow]:
    sets = prompt_sets(load_rows(folder), o)
    return [evaluate_model(m, a, sets, o) for m, a in models]


def save_thresholds(rows: list[CuffRow], o: CuffEvalOptions, path: Path = THRESHOLDS) -> None:
    data = {
        r.model: {
            "norm_threshold": float(r.norm_threshold),
            "note": (
                f"set for {o.target_fpr:.0%} FPR on {o.benign_dev} benign dev prompts of the "
                f"guard data (N={o.cuff.samples}, P={o.cuff.perturbations}, mu={o.cuff.mu}, "
                f"{o.cuff.max_new_tokens} tokens); measured TPR {r.tpr:.3f} on {r.jailbreaks} "
                f"held-out jailbreaks, FPR {r.fpr:.3f} on {r.benign_test} held-out benign, cost "
                f"{r.cost_ratio:.1f}x one reply"
            ),
        }
        for r in rows
    }
    path.write_text(
        "# Written by `perception guard eval-cuff`.\n" + yaml.safe_dump(data, width=99)
    )


def stored_threshold(model_id: str, path: Path = THRESHOLDS) -> float:
    """The stage-2 threshold stored for ``model_id`` (inf = stage 2 off when none is stored)."""
    if not path.is_file():
        return float("inf")
    entry = (yaml.safe_load(path.read_text()) or {}).get(model_id)
    return float(entry["norm_threshold"]) if entry else float("inf")


def format_cuff(rows: list[CuffRow], o: CuffEvalOptions) -> str:
    lines = [
        f"Gradient Cuff (N={o.cuff.samples}, P={o.cuff.perturbations}, mu={o.cuff.mu}, "
        f"{o.cuff.max_new_tokens} tokens, threshold at {o.target_fpr:.0%} FPR on "
        f"{o.benign_dev} benign dev prompts)",
        f"{'model':44} {'threshold':>9} {'TPR':>6} {'stage1':>7} {'FPR':>6} {'cost x':>7}",
    ]
    for r in rows:
        lines.append(
            f"{r.model:44} {r.norm_threshold:9.3g} {r.tpr:6.3f} {r.stage1_tpr:7.3f} "
            f"{r.fpr:6.3f} {r.cost_ratio:7.1f}   ({r.jailbreaks} jailbreaks, "
            f"{r.benign_test} benign)"
        )
    return "\n".join(lines)
