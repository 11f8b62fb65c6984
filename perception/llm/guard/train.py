"""Training the compact detectors: features of every row (cached), one head per task fitted on
the train split, calibrated and thresholded on the dev split.

Owns the training recipe and the feature cache. The held-out test split is never read here
except to be featurised with the rest (its rows never reach a fit, a calibration or a threshold).
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import yaml

from perception.llm.guard import written
from perception.llm.guard.data import TASKS, Row, Task, load_rows, task_rows
from perception.llm.guard.detectors import FORMAT, Bundle, save_bundle
from perception.llm.guard.evaluate import GuardReport, evaluate
from perception.llm.guard.features import EMBED_DIM, Embedder, FeatureOptions
from perception.llm.guard.heads import Head, fit_logistic, fit_platt
from perception.llm.guard.loso import (
    LOOKALIKE_SOURCES,
    LosoReport,
    Scorers,
    fold_threshold,
    run_loso,
    worst_auroc,
)
from perception.llm.guard.metrics import auroc
from perception.models.store import default_home, sha256_path


@dataclass(frozen=True)
class TrainOptions:
    """target_fpr: share of benign dev texts, and of benign dev look-alikes, each detector may
    flag (sets its threshold); l2_grid: penalties tried, the best dev AUROC wins, unless
    l2_by_task names a task's penalty (chosen by the worst left-out source, :mod:`loso`)."""

    target_fpr: float = 0.02
    l2_grid: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1)
    l2_by_task: tuple[tuple[str, float], ...] = ()
    features: FeatureOptions = field(default_factory=FeatureOptions)


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def featurize(rows: list[Row], embedder: Embedder, cache: Path | None = None) -> np.ndarray:
    """(len(rows), D) features; each text's row is read from ``cache`` (an ``.npz`` of keys and
    features per feature model and window) when there, embedded and added to it when not."""
    texts = [r.text for r in rows]
    name = f"{Path(embedder.options.model).name}-{embedder.options.window_tokens}"
    name += (
        f"-{embedder.options.kind}-{embedder.tuned_key}"
        if getattr(embedder, "tuned_key", "")
        else ""
    )
    cache = cache or default_home() / "guard" / f"features-{name}.npz"
    known: dict[str, np.ndarray] = {}
    if cache.is_file():
        with np.load(cache) as stored:
            known = dict(zip(stored["keys"].tolist(), stored["feats"], strict=True))
    missing = list(dict.fromkeys(t for t in texts if _text_key(t) not in known))
    if missing:
        print(f"featurising {len(missing)} texts (cached in {cache})", file=sys.stderr)
        for i in range(0, len(missing), 64):
            chunk = missing[i : i + 64]
            known |= dict(zip(map(_text_key, chunk), embedder(chunk), strict=True))
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, keys=np.array(list(known)), feats=np.stack(list(known.values())))
    return np.stack([known[_text_key(t)] for t in texts]).astype(np.float32)


def _select(rows: list[Row], feats: np.ndarray, task: Task, split: str):
    index = {id(r): i for i, r in enumerate(rows)}
    picked, labels = task_rows(rows, task, split)
    return feats[[index[id(r)] for r in picked]], np.array(labels), picked


def calibrated_head(
    train: tuple[np.ndarray, np.ndarray],
    dev: tuple[np.ndarray, np.ndarray],
    lookalike_dev: np.ndarray,
    l2: float,
    target_fpr: float,
) -> Head:
    """Logistic regression on ``train`` (x, y), Platt on ``dev``, threshold at ``target_fpr`` on
    the dev negatives and on the dev look-alikes (``lookalike_dev``: a mask over dev rows)."""
    head = fit_logistic(*train, l2)
    x_dev, y_dev = dev
    a, b = fit_platt(head.logit(x_dev), y_dev)
    head = replace(head, platt_a=a, platt_b=b)
    p = head.prob(x_dev)
    threshold = fold_threshold(p[y_dev == 0], p[lookalike_dev & (y_dev == 0)], target_fpr)
    return replace(head, threshold=threshold)


def _lookalikes(picked: list[Row]) -> np.ndarray:
    return np.array([r.source in LOOKALIKE_SOURCES for r in picked], dtype=bool)


def fit_task(rows: list[Row], feats: np.ndarray, task: Task, options: TrainOptions) -> Head:
    """One detector: its penalty (``options.l2_by_task``, else the best dev AUROC of the grid),
    Platt on dev, the dev threshold (:func:`calibrated_head`)."""
    x_tr, y_tr, _ = _select(rows, feats, task, "train")
    x_dev, y_dev, picked = _select(rows, feats, task, "dev")
    chosen = dict(options.l2_by_task)
    best: tuple[float, float] = (-1.0, chosen.get(task, options.l2_grid[0]))
    for l2 in [] if task in chosen else options.l2_grid:
        z = fit_logistic(x_tr, y_tr, l2).logit(x_dev)
        best = max(best, (auroc(z[y_dev == 1], z[y_dev == 0]), l2))
    looks = _lookalikes(picked)
    return calibrated_head((x_tr, y_tr), (x_dev, y_dev), looks, best[1], options.target_fpr)


def lr_fitter(rows: list[Row], feats: np.ndarray, l2: dict[str, float], target_fpr: float):
    """A :data:`~perception.llm.guard.loso.Fitter` of the LR recipe over ``feats`` (one row per
    row of ``rows``), with one penalty per task."""
    index = {id(r): i for i, r in enumerate(rows)}

    def x_of(picked: list[Row]) -> np.ndarray:
        return feats[[index[id(r)] for r in picked]]

    def fit(train_rows: list[Row], dev_rows: list[Row], tasks) -> Scorers:
        out: Scorers = {}
        for task in tasks:
            tr, y_tr = task_rows(train_rows, task)
            dev, y_dev = task_rows(dev_rows, task)
            xy_tr, xy_dev = (x_of(tr), np.array(y_tr)), (x_of(dev), np.array(y_dev))
            head = calibrated_head(xy_tr, xy_dev, _lookalikes(dev), l2[task], target_fpr)
            out[task] = (lambda rs, h=head: h.prob(x_of(rs)), head.threshold)
        return out

    return fit


def loso_lr(rows: list[Row], feats: np.ndarray, options: TrainOptions) -> LosoReport:
    """The left-out table of the LR recipe with ``options.l2_by_task`` (every task named)."""
    l2 = dict(options.l2_by_task)
    penalties = ", ".join(f"{t} {v:g}" for t, v in l2.items())
    recipe = f"LR heads on frozen MiniLM features, l2 {penalties}"
    return run_loso(rows, lr_fitter(rows, feats, l2, options.target_fpr), recipe)


def choose_l2(rows: list[Row], feats: np.ndarray, options: TrainOptions) -> TrainOptions:
    """``options`` with each task's penalty from ``l2_grid``: the one whose worst left-out unit
    scores the highest AUROC (ties: the higher median)."""
    by_l2 = {}
    for l2 in options.l2_grid:
        one = replace(options, l2_by_task=tuple((t, l2) for t in TASKS))
        by_l2[l2] = loso_lr(rows, feats, one)
    chosen = {
        task: max(options.l2_grid, key=lambda v: _rank(worst_auroc(by_l2[v], task)))
        for task in TASKS
    }
    return replace(options, l2_by_task=tuple(chosen.items()))


def _rank(worst_median: tuple[float, float]) -> tuple[float, float]:
    return tuple(-1.0 if v != v else v for v in worst_median)  # NaN (no fold) ranks last


def train(
    folder: Path | None, options: TrainOptions
) -> tuple[dict[Task, Head], list[Row], TrainOptions]:
    """Every detector's head, the rows (with the shared data read from ``folder``) and the
    options used: penalties from :func:`choose_l2` unless ``options.l2_by_task`` names them."""
    rows = load_rows(folder)
    feats = featurize(rows, Embedder(options.features))
    if not options.l2_by_task:
        options = choose_l2(rows, feats, options)
    return {task: fit_task(rows, feats, task, options) for task in TASKS}, rows, options


def prototypes(embedder: Embedder) -> np.ndarray:
    """(categories, 384) L2-normalised mean embeddings of each category's descriptions."""
    rows = []
    for descriptions in written.CATEGORY_DESCRIPTIONS.values():
        mean = embedder(list(descriptions))[:, :EMBED_DIM].mean(0)
        rows.append(mean / np.linalg.norm(mean))
    return np.stack(rows).astype(np.float32)


def data_summary(rows: list[Row], folder: Path | None) -> str:
    """Counts per kind, source and split, and where the shared data came from."""
    counts = Counter((r.kind, r.source, r.split) for r in rows)
    parts = [f"{k}/{s}/{sp}={n}" for (k, s, sp), n in sorted(counts.items())]
    return (
        f"shared guard data read from {folder or '../shared/data/guard'} (AdvBench MIT, "
        "self-instruct Apache-2.0, llm-guard jailbreak templates MIT) plus text written for "
        "this project (perception/llm/guard/written.py) and attacks built from them (data.py); "
        "held out by source family (data.SPLITS). Rows: " + ", ".join(parts)
    )


def save_trained(
    heads: dict[Task, Head],
    rows: list[Row],
    folder: Path | None,
    options: TrainOptions,
    out: Path,
) -> GuardReport:
    """Write the LR bundle and its card (with the test report's figures) to ``out`` (.pt)."""
    embedder = Embedder(options.features)
    meta = {"target_fpr": options.target_fpr, "l2_by_task": dict(options.l2_by_task)}
    bundle = Bundle(dict(heads), options.features, meta=meta)
    return save_bundle_and_card(bundle, embedder, rows, folder, out)


def save_bundle_and_card(
    bundle: Bundle, embedder: Embedder, rows: list[Row], folder: Path | None, out: Path
) -> GuardReport:
    """Add the category prototypes (``embedder``'s) and the training note to ``bundle``, report
    it on the test split, write it and its card to ``out``."""
    categories = tuple(written.CATEGORY_DESCRIPTIONS)
    bundle = replace(bundle, categories=categories, prototypes=prototypes(embedder))
    report = evaluate(bundle, rows, featurize(rows, embedder))
    bundle = replace(bundle, meta={**bundle.meta, "training": data_summary(rows, folder)})
    save_bundle(out, bundle)
    write_card(out, report, bundle)
    return report


def write_card(path: Path, report: GuardReport, bundle: Bundle) -> Path:
    """The card ``path.with_suffix('.yaml')``: sha256, training data, thresholds, figures."""
    metrics: dict[str, float] = {}
    for d in report.detectors:
        metrics |= {
            f"{d.detector}.test_auroc": round(d.auroc, 4),
            f"{d.detector}.test_tpr_at_1_fpr": round(d.tpr_at_1_fpr, 4),
            f"{d.detector}.test_tpr_at_5_fpr": round(d.tpr_at_5_fpr, 4),
            f"{d.detector}.threshold": round(d.threshold, 6),
            f"{d.detector}.test_fpr_at_threshold": round(d.fpr_at_threshold, 4),
            f"{d.detector}.test_calibration_error": round(d.calibration_error, 4),
        }
    metrics["lookalikes.test_overflag"] = round(report.overflag, 4)
    card = {
        "name": path.stem,
        "task": "text-classification",
        "description": (
            "compact guardrail detectors (harmful request with six categories, jailbreak, prompt "
            "injection, harmful reply): "
            + bundle.meta.get(
                "recipe", "logistic-regression heads over frozen all-MiniLM-L6-v2 features"
            )
            + f", Platt-calibrated on dev, thresholds at {bundle.meta['target_fpr']:.0%} FPR on "
            "benign dev texts and on benign dev look-alikes"
        ),
        "format": FORMAT,
        "entry": path.name,
        "licence": "Apache-2.0 (trained here; data licences in `training`)",
        "source": {
            "kind": "local",
            "path": "perception/llm/guard/weights",
            "files": [{"path": path.name, "dest": path.name, "sha256": sha256_path(path)}],
        },
        "base": bundle.features.model,
        "training": bundle.meta["training"],
        "metrics": metrics,
    }
    out = path.with_suffix(".yaml")
    header = "# Written by `perception guard train`; figures are on the held-out test split.\n"
    out.write_text(header + yaml.safe_dump(card, sort_keys=False, width=99), encoding="utf-8")
    return out
