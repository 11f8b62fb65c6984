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
from perception.llm.guard.heads import Head, fit_logistic, fit_platt, threshold_at_fpr
from perception.llm.guard.metrics import auroc
from perception.models.store import default_home, sha256_path


@dataclass(frozen=True)
class TrainOptions:
    """target_fpr: share of benign dev texts each detector may flag (sets its threshold);
    l2_grid: penalties tried, the best dev AUROC wins."""

    target_fpr: float = 0.02
    l2_grid: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1)
    features: FeatureOptions = field(default_factory=FeatureOptions)


def featurize(rows: list[Row], embedder: Embedder, cache: Path | None = None) -> np.ndarray:
    """(len(rows), D) features, read from ``cache`` when it holds these texts' features."""
    texts = [r.text for r in rows]
    key = hashlib.sha256(
        "\x00".join([embedder.options.model, str(embedder.options.window_tokens), *texts]).encode()
    ).hexdigest()[:16]
    cache = cache or default_home() / "guard" / f"features-{key}.npy"
    if cache.is_file():
        return np.load(cache)
    print(f"featurising {len(texts)} texts (cached in {cache})", file=sys.stderr)
    feats = np.concatenate([embedder(texts[i : i + 64]) for i in range(0, len(texts), 64)])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, feats)
    return feats


def _select(rows: list[Row], feats: np.ndarray, task: Task, split: str):
    index = {id(r): i for i, r in enumerate(rows)}
    picked, labels = task_rows(rows, task, split)
    return feats[[index[id(r)] for r in picked]], np.array(labels)


def fit_task(rows: list[Row], feats: np.ndarray, task: Task, options: TrainOptions) -> Head:
    """One detector: the L2 penalty with the best dev AUROC, Platt on dev, dev threshold."""
    x_tr, y_tr = _select(rows, feats, task, "train")
    x_dev, y_dev = _select(rows, feats, task, "dev")
    best: tuple[float, Head] | None = None
    for l2 in options.l2_grid:
        head = fit_logistic(x_tr, y_tr, l2)
        z = head.logit(x_dev)
        score = auroc(z[y_dev == 1], z[y_dev == 0])
        if best is None or score > best[0]:
            best = (score, head)
    assert best is not None
    head = best[1]
    a, b = fit_platt(head.logit(x_dev), y_dev)
    head = replace(head, platt_a=a, platt_b=b)
    threshold = threshold_at_fpr(head.prob(x_dev[y_dev == 0]), options.target_fpr)
    return replace(head, threshold=threshold)


def train(folder: Path | None, options: TrainOptions) -> tuple[dict[Task, Head], list[Row]]:
    """Every detector's head, and the rows (with the shared data read from ``folder``)."""
    rows = load_rows(folder)
    feats = featurize(rows, Embedder(options.features))
    return {task: fit_task(rows, feats, task, options) for task in TASKS}, rows


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
    """Write the bundle and its card (with the test report's figures) to ``out`` (.pt)."""
    embedder = Embedder(options.features)
    bundle = Bundle(
        dict(heads),
        options.features,
        tuple(written.CATEGORY_DESCRIPTIONS),
        prototypes(embedder),
        {"target_fpr": options.target_fpr},
    )
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
        }
    metrics["benign_edgy.test_overflag"] = round(report.overflag, 4)
    card = {
        "name": path.stem,
        "task": "text-classification",
        "description": (
            "compact guardrail detectors (harmful request with six categories, jailbreak, prompt "
            "injection, harmful reply): logistic-regression heads over frozen all-MiniLM-L6-v2 "
            "features, Platt-calibrated on dev, thresholds at "
            f"{bundle.meta['target_fpr']:.0%} FPR on benign dev texts"
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
