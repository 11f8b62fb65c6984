"""Language and reading on real photos, against labels we wrote for their regions.

``tests/data/photos/regions.json`` holds, for six real photos, every region the PP-OCRv4
detector boxes with its script ("latin", "han", "mixed", "none") and our transcription (null where
not legible in full), and the main script of the single-script photos. This module scores a
detector on them: per-region language-ID (the script of the named language against the label;
"unknown" counts as wrong), per-photo script by majority of the regions named with a language
("unknown" and "zxx", numbers, do not vote), and the character error rate of the readings (a
region not read counts as an empty reading). It owns the protocol, not the models.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2

from perception.eval.detection import iou
from perception.eval.wer import count_errors
from perception.vision.languages import load_registry
from perception.vision.types import NO_LANGUAGE, UNKNOWN_LANGUAGE, TextRegion

PHOTOS = Path(__file__).resolve().parents[2] / "tests" / "data" / "photos"


@dataclass(frozen=True)
class PhotoReport:
    """Scores of one detector on the labelled photos."""

    regions: int  # labelled Latin or Chinese regions
    language_right: int
    language_unknown: int
    per_script: dict[str, tuple[int, int]]  # script → (right, total)
    photos: int  # single-script photos
    photos_right: int
    photo_calls: dict[str, str]  # photo → majority script of its named regions
    read: int  # regions with a transcription
    exact: int  # readings equal to the transcription (spaces ignored)
    cer: float

    @property
    def language_accuracy(self) -> float:
        return self.language_right / max(self.regions, 1)


def script_of(language: str) -> str:
    return load_registry()[language].script if language != UNKNOWN_LANGUAGE else UNKNOWN_LANGUAGE


def _read_rgb(path: Path):
    bgr = cv2.imread(str(path))
    if bgr is None:
        raise ValueError(f"cannot read {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _matched(found: list[TextRegion], polygon) -> TextRegion | None:
    best = max(found, key=lambda r: iou(r.polygon_px, polygon), default=None)
    return best if best is not None and iou(best.polygon_px, polygon) >= 0.5 else None


def evaluate_photos(detector, folder: Path = PHOTOS) -> PhotoReport:
    """Run ``detector`` on every labelled photo and score it (see the module doc)."""
    doc = json.loads((folder / "regions.json").read_text(encoding="utf-8"))
    by_photo: dict[str, list[dict]] = {}
    for r in doc["regions"]:
        by_photo.setdefault(r["photo"], []).append(r)
    names = sorted(set(by_photo) | set(doc["photo_scripts"]))
    found = {name: detector.detect(_read_rgb(folder / name)) for name in names}
    per_script: dict[str, list[int]] = {"latin": [0, 0], "han": [0, 0]}
    unknown, pairs = 0, []
    for name, labelled in by_photo.items():
        for label in labelled:
            region = _matched(found[name], label["polygon_px"])
            predicted = region.language if region else UNKNOWN_LANGUAGE
            if label["script"] in per_script:
                per_script[label["script"]][1] += 1
                per_script[label["script"]][0] += script_of(predicted) == label["script"]
                unknown += predicted == UNKNOWN_LANGUAGE
            if label["text"] is not None:
                pairs.append((label["text"], region.text if region else ""))
    calls = {name: _majority(found[name]) for name in doc["photo_scripts"] if name in found}
    counts = [count_errors(t, r, unit="char") for t, r in pairs]
    return PhotoReport(
        regions=sum(t for _, t in per_script.values()),
        language_right=sum(r for r, _ in per_script.values()),
        language_unknown=unknown,
        per_script={k: (v[0], v[1]) for k, v in per_script.items()},
        photos=len(calls),
        photos_right=sum(calls[n] == doc["photo_scripts"][n] for n in calls),
        photo_calls=calls,
        read=len(pairs),
        exact=sum(c.edits == 0 for c in counts),
        cer=sum(c.edits for c in counts) / max(sum(c.words for c in counts), 1),
    )


def _majority(regions: list[TextRegion]) -> str:
    """The most frequent script of the regions named with a language (not unknown, not zxx)."""
    named = [r for r in regions if r.language not in (UNKNOWN_LANGUAGE, NO_LANGUAGE)]
    scripts = Counter(script_of(r.language) for r in named)
    return scripts.most_common(1)[0][0] if scripts else UNKNOWN_LANGUAGE


def format_report(name: str, r: PhotoReport) -> str:
    per = ", ".join(f"{s} {right}/{total}" for s, (right, total) in r.per_script.items())
    return (
        f"{name}: language-ID on {r.regions} labelled regions {r.language_accuracy:.3f} ({per}; "
        f"{r.language_unknown} unknown); photo script by majority {r.photos_right}/{r.photos}; "
        f"reading: CER {r.cer:.3f}, {r.exact}/{r.read} exact"
    )
