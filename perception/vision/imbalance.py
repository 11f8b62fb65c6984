"""Does a bigger share of the training data help a minority group? A sweep on MENTOR.

The group-imbalance paper behind :mod:`perception.eval.groups` claims that raising a minority
group's share of the training data does not always help that group. Here the group is one seen
language: its share of the training crops is set to each value of ``shares`` (its crops
subsampled, or the others subsampled when the share is above its natural one), MENTOR and the
script-ID baseline are trained on those features with episodes / batches drawn in proportion to
the crops (as plain empirical risk minimisation sees them), for several seeds, and both are
scored on detector crops of the seen evaluation scenes: the language's own accuracy and the mean
accuracy over all seen languages. Features come from the training config's cache; the evaluation
crops are embedded once and cached beside it. This module owns the sweep and its table.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from perception.config import load_yaml
from perception.eval.detection import match_image
from perception.models.store import ModelStore
from perception.vision.api import VisionOptions, load_detector
from perception.vision.recognizer import LineRecognizer, line_crop
from perception.vision.train import (
    FeatureSet,
    TrainConfig,
    load_features,
    train_mentor,
    train_script_id,
)


@dataclass(frozen=True)
class ImbalanceConfig:
    """The sweep: ``language``'s share of the training crops takes each of ``shares``."""

    train_config: str = "configs/vision/large.yaml"
    language: str = "ko"
    shares: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3)
    seeds: tuple[int, ...] = (0, 1, 2)
    steps: int = 1500
    eval_scenes: int = 60


def with_share(data: FeatureSet, index: int, share: float, rng: np.random.Generator) -> FeatureSet:
    """The training features with language ``index`` making up ``share`` of all crops."""
    own = data.by_language[index]
    rest = np.flatnonzero(data.labels != index)
    n_own = round(share / (1 - share) * len(rest))
    if n_own > len(own):  # not enough of the language: subsample the others instead
        rest = rng.choice(rest, round(len(own) * (1 - share) / share), replace=False)
        n_own = len(own)
    keep = np.sort(np.concatenate([rng.choice(own, max(n_own, 1), replace=False), rest]))
    idx = torch.from_numpy(keep)
    return FeatureSet.of(data.features[idx], data.labels[keep], data.templates, data.negatives)


def eval_features(cfg: TrainConfig, scenes: int, store: ModelStore) -> tuple[torch.Tensor, list]:
    """Features and true languages of the detector's boxes matched to the seen evaluation
    scenes' regions (those :func:`perception.vision.evaluate.scene_sets` renders); cached."""
    from perception.vision.evaluate import EvalConfig, scene_sets

    ecfg = EvalConfig(scenes_per_set=scenes, seen_languages=cfg.seen_languages)
    path = Path(cfg.data_cache or "build/vision/data.npz").with_suffix(f".eval{scenes}.npz")
    if path.is_file():
        with np.load(path) as z:
            return torch.from_numpy(z["features"]), list(z["languages"])
    detector = load_detector(VisionOptions(detector="ppocr", read_text=False), store)
    crops, languages = [], []
    for image, gt in tqdm(scene_sets(ecfg)["seen"], desc="evaluation crops", unit="scene"):
        found = detector.candidates(image)
        m = match_image([g.polygon_px for g in gt], [g.dont_care for g in gt],
                        [f.polygon_px for f in found])  # fmt: skip
        crops += [line_crop(image, found[j].polygon_px) for _, j in m.pairs]
        languages += [gt[i].language for i, _ in m.pairs]
    features = LineRecognizer(store).embed(crops).cpu()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, features=features.numpy(), languages=np.array(languages))
    return features, languages


@torch.no_grad()
def accuracies(labels: torch.Tensor, truth: list[str], codes: list[str], language: str):
    """(accuracy on ``language``, mean of the per-language accuracies) of arg-max labels."""
    predicted = [codes[i] for i in labels.tolist()]
    per = {
        c: float(np.mean([p == c for p, t in zip(predicted, truth, strict=True) if t == c]))
        for c in sorted(set(truth))
    }
    return per.get(language, float("nan")), float(np.mean(list(per.values())))


def run(cfg: ImbalanceConfig, store: ModelStore | None = None, log=print) -> dict:
    """The sweep; returns every run's accuracies and the per-share means and spreads."""
    store = ModelStore() if store is None else store
    base = load_yaml(TrainConfig, Path(cfg.train_config))
    base = dataclasses.replace(base, steps=cfg.steps, sampling="proportional")
    codes = list(base.seen_languages)
    data = load_features(base, store, log)
    features, truth = eval_features(base, cfg.eval_scenes, store)
    index = codes.index(cfg.language)
    natural = len(data.by_language[index]) / len(data.labels)
    rows = []
    quiet = lambda _: None  # noqa: E731
    for share in cfg.shares:
        for seed in cfg.seeds:
            run_cfg = dataclasses.replace(base, seed=seed)
            subset = with_share(data, index, share, np.random.default_rng(seed))
            mentor, _ = train_mentor(subset, run_cfg, log=quiet)
            k = run_cfg.mentor.templates_per_language
            kernels = mentor.kernels([subset.templates[c][:k] for c in codes])
            mentor_labels = mentor(features, kernels)[:, : len(codes)].argmax(1)
            script_id = train_script_id(subset, run_cfg, log=quiet)
            baseline_labels = script_id(features).argmax(1)
            row = {"share": share, "seed": seed}
            for name, labels in (("mentor", mentor_labels), ("script-id", baseline_labels)):
                own, mean = accuracies(labels, truth, codes, cfg.language)
                row[name] = {"language": own, "mean": mean}
            rows.append(row)
            log(json.dumps(row))
    return {"language": cfg.language, "natural_share": natural, "runs": rows,
            "summary": summarise(rows, cfg.shares)}  # fmt: skip


def summarise(rows: list[dict], shares: tuple[float, ...]) -> dict:
    out = {}
    for share in shares:
        runs = [r for r in rows if r["share"] == share]
        out[str(share)] = {
            f"{model} {what}": (float(np.mean(v)), float(np.std(v)))
            for model in ("mentor", "script-id")
            for what in ("language", "mean")
            for v in [[r[model][what] for r in runs]]
        }
    return out


def format_table(result: dict) -> str:
    """Markdown: per share, each model's accuracy on the language and the mean, ± std."""
    lang = result["language"]
    lines = [
        f"{lang}'s natural share of the training crops: {result['natural_share']:.3f}",
        f"| {lang} share | MENTOR on {lang} | MENTOR mean | script-ID on {lang} | "
        "script-ID mean |",
        "| --- | --- | --- | --- | --- |",
    ]
    for share, s in result["summary"].items():
        cells = " | ".join(
            f"{s[k][0]:.3f} ± {s[k][1]:.3f}"
            for k in ("mentor language", "mentor mean", "script-id language", "script-id mean")
        )
        lines.append(f"| {float(share):.2f} | {cells} |")
    return "\n".join(lines)
