"""Guard benchmark: one prompt check on CPU (features + every prompt detector) for each bundle,
torch and the exported ONNX graph on onnxruntime, in one process.

    python bench/bench_guard.py [--texts 60] [--threads 2] [--bundles A,B]

Prints the median and p95 milliseconds of a single-text check for each bundle and runtime, and
the ratio to the first bundle on torch; texts are this project's written benign prompts and
injections (short, like a command or a sign). Default bundles: the LR baseline and the default
(hybrid). Never fails on a time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import torch

from perception.llm.guard import written
from perception.llm.guard.detectors import DEFAULT_BUNDLE, LR_BUNDLE, DetectorOptions, Detectors
from perception.llm.guard.evaluate import check_latency_ms
from perception.llm.guard.export import OnnxEmbedder, export_embedder


def texts(n: int) -> list[str]:
    pool = [t for fam in written.BENIGN_EDGY.values() for t in written.expand(fam, 6)]
    pool += [t for fam in written.INJECTION.values() for t in written.expand(fam, 6)]
    return pool[:n]


def run_bundle(name: str, items: list[str], threads: int) -> dict[str, list[float]]:
    """Per-text check times of one bundle on torch, then on onnxruntime."""
    detectors = Detectors(DetectorOptions(bundle=name))
    results = {f"{name} torch": check_latency_ms(detectors, items)}
    with tempfile.TemporaryDirectory() as tmp:
        path = export_embedder(detectors.embedder, Path(tmp) / "guard.onnx")
        detectors.embedder = OnnxEmbedder(detectors.embedder, path, threads)
        results[f"{name} onnxruntime"] = check_latency_ms(detectors, items)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=60)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--bundles", default=f"{LR_BUNDLE},{DEFAULT_BUNDLE}")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    items, results = texts(args.texts), {}
    for name in args.bundles.split(","):
        results |= run_bundle(name, items, args.threads)
    base = statistics.median(next(iter(results.values())))
    for name, ms in results.items():
        p95 = sorted(ms)[int(0.95 * (len(ms) - 1))]
        print(
            f"{name:32} median {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms  "
            f"ratio {statistics.median(ms) / base:.2f}  ({len(ms)} texts, "
            f"{args.threads} thread(s))"
        )


if __name__ == "__main__":
    main()
