"""Metrics of a replay against ground truth: WER, detection H-mean, language-ID accuracy, latency.

Owns turning matches into per-group items (detections matched to annotated polygons with the
MLT protocol of ``perception.eval.detection``; transcripts matched to reference utterances by
time overlap) and the per-group breakdowns (``perception.eval.groups``: by voice for speech, by
language for scene text, worst group named). It knows nothing about bags or ROS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception.eval.detection import match_image
from perception.eval.groups import GroupReport, by_group
from perception.eval.wer import corpus_wer, count_errors
from perception.speech.types import Transcript
from perception.vision.types import UNKNOWN_LANGUAGE, TextRegion

NO_REFERENCE = "no reference"
NO_LANGUAGE = "no language"  # group of false detections that carry no language


@dataclass(frozen=True)
class RegionItem:
    """One annotated region (matched or missed) or one false detection, for grouping."""

    group: str  # annotated language; a false detection: its predicted language or NO_LANGUAGE
    is_truth: bool
    matched: bool
    language_correct: bool = False


@dataclass(frozen=True)
class UtteranceItem:
    reference: str
    hypothesis: str
    group: str  # the voice; NO_REFERENCE for transcripts that overlap no reference


def match_frame(
    truth: list[dict], regions: tuple[TextRegion, ...], iou_threshold: float = 0.5
) -> list[RegionItem]:
    """One frame under the project's MLT protocol (``perception.eval.detection.match_image``).

    Detections lying mostly inside a "don't care" region are neither true nor false positives.
    """
    match = match_image(
        [t["polygon_px"] for t in truth],
        [bool(t.get("dont_care")) for t in truth],
        [r.polygon_px for r in regions],
        iou_threshold,
    )
    det_of = dict(match.pairs)
    items = []
    for i in match.care_gt:
        j = det_of.get(i)
        correct = j is not None and regions[j].language == truth[i]["language"]
        items.append(RegionItem(truth[i]["language"], True, j is not None, correct))
    matched_dets = set(det_of.values())
    for j in match.care_det:
        if j not in matched_dets:
            language = regions[j].language
            group = NO_LANGUAGE if language == UNKNOWN_LANGUAGE else language
            items.append(RegionItem(group, False, False))
    return items


def read_pairs(
    truth: list[dict], regions: tuple[TextRegion, ...], iou_threshold: float = 0.5
) -> list[tuple[str, str]]:
    """(true text, reading) of each matched region that a reader read and the truth spells."""
    match = match_image(
        [t["polygon_px"] for t in truth],
        [bool(t.get("dont_care")) for t in truth],
        [r.polygon_px for r in regions],
        iou_threshold,
    )
    return [
        (truth[i]["text"], regions[j].text)
        for i, j in match.pairs
        if regions[j].reader and truth[i].get("text")
    ]


def reading_summary(pairs: list[tuple[str, str]]) -> dict:
    """How many regions were read and their character error rate (spaces ignored)."""
    counts = [count_errors(t, r, unit="char") for t, r in pairs]
    chars = sum(c.words for c in counts)
    cer = sum(c.edits for c in counts) / chars if chars else None
    return {"regions_read": len(pairs), "exact": sum(c.edits == 0 for c in counts), "cer": cer}


def hmean(items: list[RegionItem]) -> float:
    """Harmonic mean of precision and recall, 2TP / (2TP + FP + FN)."""
    tp = sum(i.is_truth and i.matched for i in items)
    fn = sum(i.is_truth and not i.matched for i in items)
    fp = sum(not i.is_truth for i in items)
    return 2 * tp / (2 * tp + fp + fn) if (tp + fp + fn) else float("nan")


def language_accuracy(items: list[RegionItem]) -> float:
    """Share of matched annotated regions whose predicted language is right."""
    matched = [i for i in items if i.is_truth and i.matched]
    return sum(i.language_correct for i in matched) / len(matched) if matched else float("nan")


def detection_reports(items: list[RegionItem]) -> list[GroupReport]:
    """H-mean per language and language-ID accuracy per language (matched regions)."""
    matched = [i for i in items if i.is_truth and i.matched]
    return [
        by_group(items, lambda i: i.group, hmean, "H-mean", higher_is_better=True),
        by_group(
            matched,
            lambda i: i.group,
            language_accuracy,
            "language-ID accuracy",
            higher_is_better=True,
        ),
    ]


def match_utterances(references: list[dict], transcripts: list[Transcript]) -> list[UtteranceItem]:
    """Each transcript goes to the reference it overlaps most in time (both in stream seconds)."""
    texts: list[list[str]] = [[] for _ in references]
    extra = []
    for t in sorted(transcripts, key=lambda t: t.start_s):
        overlaps = [min(t.end_s, r["end_s"]) - max(t.start_s, r["start_s"]) for r in references]
        best = int(np.argmax(overlaps)) if overlaps else -1
        if best < 0 or overlaps[best] <= 0:
            extra.append(UtteranceItem("", t.text, NO_REFERENCE))
        else:
            texts[best].append(t.text)
    items = [
        UtteranceItem(r["text"], " ".join(h), r.get("voice", "unknown"))
        for r, h in zip(references, texts, strict=True)
    ]
    return items + extra


def wer_report(items: list[UtteranceItem]) -> GroupReport:
    """Corpus WER overall and per voice (transcripts without a reference count as insertions)."""
    return by_group(
        items,
        lambda i: i.group,
        lambda xs: corpus_wer((i.reference, i.hypothesis) for i in xs),
        "WER",
        higher_is_better=False,
    )


def percentiles_ms(values: list[float]) -> dict[str, float]:
    """p50 / p90 / p95 / max / mean of latencies in milliseconds (empty → {})."""
    if not values:
        return {}
    v = np.asarray(values, np.float64)
    p50, p90, p95 = np.percentile(v, [50, 90, 95])
    return {
        "count": int(v.size),
        "p50_ms": float(p50),
        "p90_ms": float(p90),
        "p95_ms": float(p95),
        "max_ms": float(v.max()),
        "mean_ms": float(v.mean()),
    }
