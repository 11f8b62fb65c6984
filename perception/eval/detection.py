"""Text-detection metrics under the ICDAR 2015 / MLT protocol.

A detection matches a ground-truth region when their polygon IoU is at least 0.5, one to one
(greedy by IoU). Ground truth marked don't-care ("###" in MLT) is never counted; a detection
that lies mostly (area fraction > 0.5) inside a don't-care region is dropped before matching,
as the official MLT script does. Precision, recall and H-mean are corpus-level (counts summed
over images, not means of per-image rates). This module knows polygons and labels only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shapely.geometry import Polygon

Poly = Sequence[tuple[float, float]]


@dataclass(frozen=True)
class ImageMatch:
    """Matching result of one image: indices into its ground truth and detections."""

    pairs: tuple[tuple[int, int], ...]  # (gt index, detection index)
    care_gt: tuple[int, ...]
    care_det: tuple[int, ...]


@dataclass(frozen=True)
class DetectionScore:
    """Corpus-level counts and rates; rates are fractions in [0, 1]."""

    matched: int
    n_gt: int
    n_det: int

    @property
    def precision(self) -> float:
        return self.matched / self.n_det if self.n_det else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.n_gt if self.n_gt else 0.0

    @property
    def hmean(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _polygon(points: Poly) -> Polygon:
    poly = Polygon(points)
    return poly if poly.is_valid else poly.buffer(0)


def iou(a: Poly, b: Poly) -> float:
    """Intersection over union of two simple polygons (self-intersections repaired)."""
    pa, pb = _polygon(a), _polygon(b)
    inter = pa.intersection(pb).area
    union = pa.area + pb.area - inter
    return inter / union if union > 0 else 0.0


def match_image(
    gt: Sequence[Poly],
    dont_care: Sequence[bool],
    det: Sequence[Poly],
    iou_threshold: float = 0.5,
    dont_care_overlap: float = 0.5,
) -> ImageMatch:
    """One image's one-to-one matching under the MLT protocol."""
    gt_polys = [_polygon(g) for g in gt]
    det_polys = [_polygon(d) for d in det]
    care_gt = [i for i, dc in enumerate(dont_care) if not dc]
    ignored = [i for i, dc in enumerate(dont_care) if dc]
    care_det = [
        j
        for j, d in enumerate(det_polys)
        if not any(
            d.area > 0 and d.intersection(gt_polys[i]).area / d.area > dont_care_overlap
            for i in ignored
        )
    ]
    scored = []
    for i in care_gt:
        for j in care_det:
            inter = gt_polys[i].intersection(det_polys[j]).area
            union = gt_polys[i].area + det_polys[j].area - inter
            value = inter / union if union > 0 else 0.0
            if value >= iou_threshold:
                scored.append((value, i, j))
    pairs, used_gt, used_det = [], set(), set()
    for _, i, j in sorted(scored, reverse=True):
        if i not in used_gt and j not in used_det:
            pairs.append((i, j))
            used_gt.add(i)
            used_det.add(j)
    return ImageMatch(tuple(pairs), tuple(care_gt), tuple(care_det))


def score(matches: Sequence[ImageMatch]) -> DetectionScore:
    """Corpus-level precision / recall / H-mean over many images."""
    return DetectionScore(
        matched=sum(len(m.pairs) for m in matches),
        n_gt=sum(len(m.care_gt) for m in matches),
        n_det=sum(len(m.care_det) for m in matches),
    )
