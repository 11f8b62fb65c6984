"""Vision end to end, torch vs onnxruntime: the default detector on the labelled real photos, box,
language and text compared region by region (README, Edge export)."""

import time

from perception.eval.detection import iou
from perception.models.store import ModelStore
from perception.vision.api import VisionOptions, load_detector
from perception.vision.photos import PHOTOS, _read_rgb

photos = sorted(p for p in PHOTOS.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
out = {}
for runtime in ("torch", "onnxruntime"):
    det = load_detector(VisionOptions(runtime=runtime, threads=1), ModelStore())
    t = time.perf_counter()
    out[runtime] = [det.detect(_read_rgb(p)) for p in photos]
    print(runtime, f"{time.perf_counter() - t:.1f} s")
n = same_box = same_lang = same_text = counts_equal = 0
for a, b in zip(out["torch"], out["onnxruntime"], strict=True):
    counts_equal += len(a) == len(b)
    for r in a:
        n += 1
        m = max(b, key=lambda q, r=r: iou(q.polygon_px, r.polygon_px), default=None)
        if m is not None and iou(m.polygon_px, r.polygon_px) >= 0.9:
            same_box += 1
            same_lang += m.language == r.language
            same_text += m.text == r.text
print(
    f"photos with equal region counts {counts_equal}/{len(photos)}; regions {n}; "
    f"same box {same_box}; same language {same_lang}; same text {same_text}"
)
