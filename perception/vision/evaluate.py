"""The evaluation harness: every detector on the same held-out scenes, MLT protocol, per language.

Two scene sets are rendered from evaluation seeds (from 1_000_000; training uses 0..N-1) and the
evaluation word lists (disjoint from training words): "seen" scenes hold only languages seen in
training, "unseen" scenes only held-out ones (Malayalam, Thai by default) that MENTOR knows from
templates alone. For each detector: detection precision / recall / H-mean per set (IoU >= 0.5,
don't-care ignored), language-ID accuracy over matched regions, per set and per language,
with the worst language named, and the character error rate of the regions it read. This
module owns the protocol and the tables, not the models.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import numpy as np

from perception.eval.detection import DetectionScore, ImageMatch, match_image, score
from perception.eval.groups import GroupReport, by_group
from perception.eval.wer import count_errors
from perception.models.store import ModelStore
from perception.vision.api import VisionOptions, load_detector
from perception.vision.synth import GroundTruth, render_scene
from perception.vision.train import SEEN
from perception.vision.types import UNKNOWN_LANGUAGE

EVAL_SEED_OFFSET = 1_000_000


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate; ``scenes_per_set`` scenes each for the seen and the unseen set."""

    scenes_per_set: int = 60
    seen_languages: tuple[str, ...] = SEEN
    unseen_languages: tuple[str, ...] = ("ml", "th")
    languages_per_scene: int = 3
    size_px: tuple[int, ...] = (640, 480)
    detectors: tuple[str, ...] = ("ppocr", "script-id", "mentor")
    weights: str = ""
    threads: int = 1
    language_threshold: float = 0.3
    # further thresholds reported from the same pass (a region's best language and its
    # probability do not depend on the threshold, so one run at 0 gives every threshold)
    sweep_thresholds: tuple[float, ...] = (0.0, 0.3, 0.5, 0.7)


@dataclass(frozen=True)
class LanguageRecord:
    """One matched ground-truth region: its true language, the detector's label at the
    evaluated threshold, and the best language's probability (the detector runs at threshold
    0, so ``best`` is its label whatever its probability)."""

    truth: str
    predicted: str
    best: str = ""
    probability: float = 0.0


def relabel(records: list[LanguageRecord], threshold: float) -> list[LanguageRecord]:
    """The same records as a detector with ``language_threshold=threshold`` labels them."""
    return [
        LanguageRecord(
            r.truth,
            r.best if r.probability >= threshold else UNKNOWN_LANGUAGE,
            r.best,
            r.probability,
        )
        for r in records
    ]


@dataclass(frozen=True)
class ThresholdRow:
    """At one threshold, fractions of one set's matched regions named right and "unknown"."""

    threshold: float
    right: float
    unknown: float


def sweep(
    records: tuple[LanguageRecord, ...], thresholds: tuple[float, ...]
) -> list[ThresholdRow]:
    rows = []
    for t in thresholds:
        rs = relabel(list(records), t)
        n = max(len(rs), 1)
        rows.append(
            ThresholdRow(
                t,
                sum(r.truth == r.predicted for r in rs) / n,
                sum(r.predicted == UNKNOWN_LANGUAGE for r in rs) / n,
            )
        )
    return rows


@dataclass(frozen=True)
class SetResult:
    """One detector on one scene set."""

    detection: DetectionScore
    language_accuracy: float
    records: tuple[LanguageRecord, ...]
    recall_records: tuple[tuple[str, bool], ...]  # (language, matched) per care GT region
    seconds_per_image: float
    readings: tuple[tuple[str, str], ...] = ()  # (true text, read text) per read matched region

    @property
    def cer(self) -> float:
        """Character error rate of the readings (spaces ignored; NaN when nothing was read)."""
        if not self.readings:
            return float("nan")
        counts = [count_errors(t, r, unit="char") for t, r in self.readings]
        return sum(c.edits for c in counts) / max(sum(c.words for c in counts), 1)


@dataclass(frozen=True)
class DetectorResult:
    name: str
    sets: dict[str, SetResult]
    per_language_accuracy: GroupReport
    per_language_recall: GroupReport


def scene_sets(cfg: EvalConfig) -> dict[str, list[tuple[np.ndarray, list[GroundTruth]]]]:
    """The evaluation scenes, rendered once and shared by every detector."""
    out = {}
    for k, (name, langs) in enumerate(
        (("seen", cfg.seen_languages), ("unseen", cfg.unseen_languages))
    ):
        rng = random.Random(f"eval:{name}")
        scenes = []
        for i in range(cfg.scenes_per_set):
            seed = EVAL_SEED_OFFSET + k * 100_000 + i
            pick = rng.sample(list(langs), min(cfg.languages_per_scene, len(langs)))
            scenes.append(render_scene(seed, pick, tuple(cfg.size_px), split="eval"))
        out[name] = scenes
    return out


def evaluate_set(
    detector, scenes: list[tuple[np.ndarray, list[GroundTruth]]], threshold: float = 0.0
) -> SetResult:
    """One detector (built with ``language_threshold=0``) on one scene set; its labels are
    reported as at ``threshold``."""
    matches: list[ImageMatch] = []
    records: list[LanguageRecord] = []
    recall: list[tuple[str, bool]] = []
    readings: list[tuple[str, str]] = []
    t0 = time.perf_counter()
    for image, gt in scenes:
        regions = detector.detect(image)
        m = match_image(
            [g.polygon_px for g in gt], [g.dont_care for g in gt], [r.polygon_px for r in regions]
        )
        matches.append(m)
        found = dict(m.pairs)
        records.extend(
            LanguageRecord(
                gt[i].language, regions[j].language, regions[j].language, regions[j].language_score
            )
            for i, j in m.pairs
        )
        recall.extend((gt[i].language, i in found) for i in m.care_gt)
        readings.extend((gt[i].text, regions[j].text) for i, j in m.pairs if regions[j].reader)
    seconds = (time.perf_counter() - t0) / max(len(scenes), 1)
    records = relabel(records, threshold)
    acc = float(np.mean([r.truth == r.predicted for r in records])) if records else 0.0
    return SetResult(score(matches), acc, tuple(records), tuple(recall), seconds, tuple(readings))


def evaluate(cfg: EvalConfig, store: ModelStore | None = None, log=print) -> list[DetectorResult]:
    """Every detector in ``cfg.detectors`` on the same scenes."""
    store = ModelStore() if store is None else store
    sets = scene_sets(cfg)
    languages = tuple(cfg.seen_languages) + tuple(cfg.unseen_languages)
    results = []
    for name in cfg.detectors:
        options = VisionOptions(
            detector=name,
            weights=cfg.weights,
            threads=cfg.threads,
            languages=languages,
            language_threshold=0.0,
        )
        detector = load_detector(options, store)
        per_set = {
            s: evaluate_set(detector, scenes, cfg.language_threshold) for s, scenes in sets.items()
        }
        log(f"evaluated {name}")
        results.append(_with_groups(name, per_set))
    return results


def _with_groups(name: str, per_set: dict[str, SetResult]) -> DetectorResult:
    records = [r for s in per_set.values() for r in s.records]
    recall = [r for s in per_set.values() for r in s.recall_records]
    acc = by_group(
        records,
        lambda r: r.truth,
        lambda rs: float(np.mean([r.truth == r.predicted for r in rs])),
        "language-ID accuracy",
        True,
    )
    rec = by_group(
        recall, lambda r: r[0], lambda rs: float(np.mean([m for _, m in rs])), "recall", True
    )
    return DetectorResult(name, per_set, acc, rec)


def format_sweep(results: list[DetectorResult], thresholds: tuple[float, ...]) -> str:
    """Per labeller and threshold: fractions right and "unknown" in each scene set."""
    sets = list(results[0].sets)
    head = " | ".join(f"{s} right | {s} unknown" for s in sets)
    lines = [f"| labeller | threshold | {head} |", "|---" * (2 + 2 * len(sets)) + "|"]
    for res in results:
        if not any(r.records for r in res.sets.values()) or res.name == "ppocr":
            continue
        rows = {s: sweep(res.sets[s].records, thresholds) for s in sets}
        for k, t in enumerate(thresholds):
            cells = " | ".join(f"{rows[s][k].right:.3f} | {rows[s][k].unknown:.3f}" for s in sets)
            lines.append(f"| {res.name} | {t:g} | {cells} |")
    return "\n".join(lines)


def format_tables(results: list[DetectorResult], unseen: tuple[str, ...]) -> str:
    """The summary table (per detector and set) and the per-language table, worst named."""
    lines = [
        "| detector | scenes | precision | recall | H-mean | language-ID acc | read | CER | "
        "s/image |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for res in results:
        for set_name, s in res.sets.items():
            d = s.detection
            lines.append(
                f"| {res.name} | {set_name} | {d.precision:.3f} | {d.recall:.3f} | "
                f"{d.hmean:.3f} | {s.language_accuracy:.3f} | {len(s.readings)} | {s.cer:.3f} | "
                f"{s.seconds_per_image:.3f} |"
            )
    langs = sorted(results[0].per_language_recall.per_group, key=lambda c: (c in unseen, c))
    head = " | ".join(f"ID acc {r.name}" for r in results)
    lines += [
        "",
        f"| language | held out | n | recall | {head} |",
        "|---" * (4 + len(results)) + "|",
    ]
    for code in langs:
        rec = results[0].per_language_recall
        accs = " | ".join(
            f"{r.per_language_accuracy.per_group.get(code, float('nan')):.3f}" for r in results
        )
        lines.append(
            f"| {code} | {'yes' if code in unseen else 'no'} | {rec.counts[code]} | "
            f"{rec.per_group[code]:.3f} | {accs} |"
        )
    lines.append("")
    for r in results:
        g = r.per_language_accuracy
        if g.per_group:
            lines.append(
                f"{r.name}: worst language for ID accuracy = {g.worst_group} "
                f"({g.per_group[g.worst_group]:.3f}); overall {g.overall:.3f}"
            )
    worst_rec = results[0].per_language_recall
    lines.append(
        f"detection recall: worst language = {worst_rec.worst_group} "
        f"({worst_rec.per_group[worst_rec.worst_group]:.3f})"
    )
    return "\n".join(lines)
