"""Guard benchmark: one prompt check on CPU (MiniLM features + every prompt detector), torch
against the exported ONNX graph on onnxruntime, in one process.

    python bench/bench_guard.py [--texts 60] [--threads 1]

Prints the median and p95 milliseconds of a single-text check for each runtime and their ratio;
texts are this project's written benign prompts and injections (short, like a command or a sign).
Never fails on a time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import torch

from perception.llm.guard import written
from perception.llm.guard.detectors import Detectors
from perception.llm.guard.evaluate import check_latency_ms
from perception.llm.guard.export import OnnxEmbedder, export_embedder


def texts(n: int) -> list[str]:
    pool = [t for fam in written.BENIGN_EDGY.values() for t in written.expand(fam, 6)]
    pool += [t for fam in written.INJECTION.values() for t in written.expand(fam, 6)]
    return pool[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=60)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    detectors, items = Detectors(), texts(args.texts)
    results = {"torch": check_latency_ms(detectors, items)}
    with tempfile.TemporaryDirectory() as tmp:
        path = export_embedder(detectors.embedder, Path(tmp) / "minilm.onnx")
        detectors.embedder = OnnxEmbedder(detectors.embedder, path, args.threads)
        results["onnxruntime"] = check_latency_ms(detectors, items)
    base = statistics.median(results["torch"])
    for name, ms in results.items():
        p95 = sorted(ms)[int(0.95 * (len(ms) - 1))]
        print(
            f"{name:12} median {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms  "
            f"ratio to torch {statistics.median(ms) / base:.2f}  ({len(ms)} texts, "
            f"{args.threads} thread(s))"
        )


if __name__ == "__main__":
    main()
