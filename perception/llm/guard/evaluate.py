"""Evaluating the detectors on a held-out split: per detector (with the calibration error of its
probabilities), per data source, the over-flag rate on benign look-alikes, and the
harm-category agreement.

Owns the report and its text table. Positive sources are scored by AUROC against all negatives of
the detector's task in the split; negative sources by the share flagged at the detector's
threshold. The worst source is the positive source with the lowest AUROC.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from perception.llm.guard.data import TASK_KINDS, Row, Split, category_of, task_rows
from perception.llm.guard.detectors import DIRECTIONS, Bundle
from perception.llm.guard.loso import LOOKALIKE_SOURCES
from perception.llm.guard.metrics import auroc, calibration_error, flag_rate, tpr_at_fpr


@dataclass(frozen=True)
class SourceFigure:
    """One data source within one detector's task: positives get an AUROC, both a flag rate."""

    detector: str
    source: str
    positive: bool
    count: int
    auroc: float
    flagged: float


@dataclass(frozen=True)
class DetectorFigure:
    detector: str
    positives: int
    negatives: int
    auroc: float
    tpr_at_1_fpr: float
    tpr_at_5_fpr: float
    threshold: float
    tpr_at_threshold: float
    fpr_at_threshold: float
    worst_source: str
    calibration_error: float = float("nan")  # ECE of the probabilities on this split


@dataclass(frozen=True)
class GuardReport:
    split: str
    detectors: tuple[DetectorFigure, ...]
    sources: tuple[SourceFigure, ...]
    overflag: float  # share of held-out benign look-alikes that any prompt detector flags
    overflag_count: int
    overflag_by_detector: dict[str, float]
    category_agreement: float  # prototype category = keyword category, AdvBench rows in split


def _source_key(row: Row) -> str:
    return f"{row.source}/{row.family}" if row.source == "obfuscation" else row.source


def _detector(bundle: Bundle, rows, feats, index, task: str, split: Split):
    head = bundle.heads[task]
    picked, labels = task_rows(rows, task, split)
    y = np.array(labels)
    s = head.prob(feats[[index[id(r)] for r in picked]])
    pos, neg = s[y == 1], s[y == 0]
    groups: dict[tuple[str, bool], list[float]] = defaultdict(list)
    for r, score, label in zip(picked, s, y, strict=True):
        groups[(_source_key(r), bool(label))].append(score)
    sources = tuple(
        SourceFigure(
            task,
            key,
            is_pos,
            len(v),
            auroc(np.array(v), neg) if is_pos else float("nan"),
            flag_rate(np.array(v), head.threshold),
        )
        for (key, is_pos), v in sorted(groups.items())
    )
    worst = min((f for f in sources if f.positive), key=lambda f: f.auroc, default=None)
    figure = DetectorFigure(
        task,
        len(pos),
        len(neg),
        auroc(pos, neg),
        tpr_at_fpr(pos, neg, 0.01),
        tpr_at_fpr(pos, neg, 0.05),
        head.threshold,
        flag_rate(pos, head.threshold),
        flag_rate(neg, head.threshold),
        worst.source if worst else "",
        calibration_error(s, y),
    )
    return figure, sources


def _overflag(bundle: Bundle, rows, feats, index, split: Split) -> tuple[float, int, dict]:
    edgy = [index[id(r)] for r in rows if r.source in LOOKALIKE_SOURCES and r.split == split]
    x = feats[edgy]
    flags = {d: bundle.heads[d].prob(x) >= bundle.heads[d].threshold for d in DIRECTIONS["prompt"]}
    any_flag = np.logical_or.reduce(list(flags.values())) if len(x) else np.zeros(0, bool)
    by = {d: float(f.mean()) if len(x) else float("nan") for d, f in flags.items()}
    return (float(any_flag.mean()) if len(x) else float("nan")), len(x), by


def _categories(bundle: Bundle, rows, feats, index, split: Split) -> float:
    picked = [r for r in rows if r.source == "advbench" and r.split == split]
    picked = [r for r in picked if r.category in bundle.categories]
    if not picked or not len(bundle.categories):
        return float("nan")
    mean = feats[[index[id(r)] for r in picked], : bundle.prototypes.shape[1]]
    guess = np.argmax(mean @ bundle.prototypes.T, axis=1)
    return float(
        np.mean(
            [
                bundle.categories[g] == category_of(r.text)
                for g, r in zip(guess, picked, strict=True)
            ]
        )
    )


def evaluate(
    bundle: Bundle, rows: list[Row], feats: np.ndarray, split: Split = "test"
) -> GuardReport:
    """The report of ``bundle`` on one split of ``rows`` (features in the same order)."""
    index = {id(r): i for i, r in enumerate(rows)}
    figures, sources = [], []
    for task in TASK_KINDS:
        if task in bundle.heads:
            figure, per_source = _detector(bundle, rows, feats, index, task, split)
            figures.append(figure)
            sources.extend(per_source)
    over, count, by = _overflag(bundle, rows, feats, index, split)
    agreement = _categories(bundle, rows, feats, index, split)
    return GuardReport(split, tuple(figures), tuple(sources), over, count, by, agreement)


def format_report(report: GuardReport) -> str:
    """Plain-text tables of a report."""
    lines = [
        f"split: {report.split} (families held out by source; never used for training, "
        "calibration or thresholds)",
        "",
        f"{'detector':10} {'pos':>5} {'neg':>5} {'AUROC':>6} {'TPR@1%':>7} {'TPR@5%':>7} "
        f"{'thresh':>7} {'TPR@t':>6} {'FPR@t':>6} {'ECE':>5}  worst source",
    ]
    for d in report.detectors:
        lines.append(
            f"{d.detector:10} {d.positives:5d} {d.negatives:5d} {d.auroc:6.3f} "
            f"{d.tpr_at_1_fpr:7.3f} {d.tpr_at_5_fpr:7.3f} {d.threshold:7.3f} "
            f"{d.tpr_at_threshold:6.3f} {d.fpr_at_threshold:6.3f} {d.calibration_error:5.3f}  "
            f"{d.worst_source}"
        )
    lines += ["", f"{'detector':10} {'source':32} {'n':>5} {'AUROC':>6} {'flagged':>8}"]
    for s in report.sources:
        mark = "+" if s.positive else "-"
        auc = f"{s.auroc:6.3f}" if s.positive else "     -"
        lines.append(f"{s.detector:10} {mark} {s.source:30} {s.count:5d} {auc} {s.flagged:8.3f}")
    by = ", ".join(f"{k} {v:.3f}" for k, v in report.overflag_by_detector.items())
    lines += [
        "",
        f"over-flag on benign look-alikes ({', '.join(LOOKALIKE_SOURCES)}): "
        f"{report.overflag:.3f} of {report.overflag_count} "
        f"(any prompt detector; {by})",
        f"harm category (prototype) agrees with the keyword category: "
        f"{report.category_agreement:.3f} of the split's AdvBench requests",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class ExternalFigure:
    """One detector (or ``any``: the most over-threshold detector) on a labelled file."""

    detector: str
    source: str
    positives: int
    negatives: int
    auroc: float
    tpr_at_1_fpr: float
    tpr_at_5_fpr: float
    flagged_pos: float
    flagged_neg: float


def _margin(bundle: Bundle, name: str, probs: np.ndarray) -> np.ndarray:
    """Log-odds above the detector's threshold (> 0 = flagged); comparable across detectors."""
    p = np.clip(probs, 1e-9, 1 - 1e-9)
    t = float(np.clip(bundle.heads[name].threshold, 1e-9, 1 - 1e-9))
    return np.log(p / (1 - p)) - np.log(t / (1 - t))


def evaluate_external(detectors, path) -> tuple[ExternalFigure, ...]:
    """Figures on a ``.jsonl`` of ``{"text", "label"}`` (1 = should be flagged), optionally
    ``"source"`` (each source's positives against all negatives) and ``"direction"``."""
    import json

    items = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    direction = items[0].get("direction", "prompt") if items else "prompt"
    feats = np.concatenate(
        [
            detectors.features([i["text"] for i in items[s : s + 64]])
            for s in range(0, len(items), 64)
        ]
    )
    names = DIRECTIONS[direction]
    margins = {
        n: _margin(detectors.bundle, n, detectors.bundle.heads[n].prob(feats)) for n in names
    }
    margins["any"] = np.max(np.stack(list(margins.values())), axis=0)
    y = np.array([int(i["label"]) for i in items])
    sources = sorted({i.get("source", "all") for i in items if int(i["label"]) == 1})
    out = []
    for name, m in margins.items():
        for source in ["all", *[s for s in sources if s != "all"]]:
            keep = np.array([source == "all" or i.get("source", "all") == source for i in items])
            pos, neg = m[(y == 1) & keep], m[y == 0]
            out.append(
                ExternalFigure(
                    name,
                    source,
                    len(pos),
                    len(neg),
                    auroc(pos, neg),
                    tpr_at_fpr(pos, neg, 0.01),
                    tpr_at_fpr(pos, neg, 0.05),
                    flag_rate(pos, 0.0),
                    flag_rate(neg, 0.0),
                )
            )
    return tuple(out)


def format_external(figures: tuple[ExternalFigure, ...]) -> str:
    lines = [
        f"{'detector':10} {'source':24} {'pos':>5} {'neg':>5} {'AUROC':>6} {'TPR@1%':>7} "
        f"{'TPR@5%':>7} {'flag+':>6} {'flag-':>6}"
    ]
    for f in figures:
        lines.append(
            f"{f.detector:10} {f.source:24} {f.positives:5d} {f.negatives:5d} {f.auroc:6.3f} "
            f"{f.tpr_at_1_fpr:7.3f} {f.tpr_at_5_fpr:7.3f} {f.flagged_pos:6.3f} "
            f"{f.flagged_neg:6.3f}"
        )
    return "\n".join(lines)


def check_latency_ms(detectors, texts: list[str]) -> list[float]:
    """Wall time of one prompt check per text, one by one, after a warm-up check."""
    detectors.check(texts[0])
    out = []
    for text in texts:
        start = time.perf_counter()
        detectors.check(text)
        out.append((time.perf_counter() - start) * 1e3)
    return out
