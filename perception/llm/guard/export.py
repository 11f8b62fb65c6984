"""ONNX export of the detectors' feature model, and an onnxruntime embedder with the same
interface, for targets without torch.

Owns the exported graph (the embedder's ``net``: MiniLM + mean pooling + L2 normalisation, and
for a fine-tuned bundle its tuned layers and one logit per detector: ``input_ids``,
``attention_mask`` (B, T) int64 → ``embedding`` (B, 384 [+ detectors]) float32, dynamic batch
and length), its manifest (opset, source checksum, package versions) and the parity check
against torch. The heads (Platt and threshold over features) run in numpy on either runtime.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from perception import __version__
from perception.llm.guard.features import EMBED_DIM, Embedder
from perception.llm.guard.heads import Head
from perception.models.store import ModelStore, sha256_path

OPSET = 17


def feature_width(embedder: Embedder) -> int:
    """Width of one window's output: 384, or 384 + one logit per detector when fine-tuned."""
    return EMBED_DIM + (embedder.options.tasks if embedder.options.kind == "hybrid" else 0)


def export_embedder(embedder: Embedder, path: Path) -> Path:
    """Write the pooled encoder to ``path`` (.onnx) and a manifest beside it (.json)."""
    module = embedder.net.eval()
    ids = torch.tensor([embedder.windows("an example sentence to trace")[0]])
    mask = torch.ones_like(ids)
    path.parent.mkdir(parents=True, exist_ok=True)
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    torch.onnx.export(
        module,
        (ids, mask),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["embedding"],
        dynamic_axes={**axes, "embedding": {0: "batch"}},
        opset_version=OPSET,
        dynamo=False,
    )
    manifest = {
        "perception": __version__,
        "torch": torch.__version__,
        "opset": OPSET,
        "source": embedder.options.model,
        "precision": "float32",
        "inputs": {"input_ids": ["batch", "tokens"], "attention_mask": ["batch", "tokens"]},
        "outputs": {"embedding": ["batch", feature_width(embedder)]},
    }
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return path


class OnnxEmbedder(Embedder):
    """:class:`Embedder` whose window embeddings come from the exported graph (onnxruntime)."""

    def __init__(self, torch_embedder: Embedder, onnx_path: Path, threads: int = 1) -> None:
        from perception.runtime import ort_session

        self.options, self.tokenizer = torch_embedder.options, torch_embedder.tokenizer
        self.tuned_key = torch_embedder.tuned_key
        opened = ort_session(onnx_path, "cpu", threads)
        self.session, self.providers = opened.session, opened.providers

    def embed_windows(self, windows: list[list[int]]) -> np.ndarray:
        out = []
        for start in range(0, len(windows), self.options.batch_windows):
            batch = windows[start : start + self.options.batch_windows]
            width = max(len(w) for w in batch)
            ids = np.zeros((len(batch), width), np.int64)
            mask = np.zeros((len(batch), width), np.int64)
            for i, w in enumerate(batch):
                ids[i, : len(w)], mask[i, : len(w)] = w, 1
            out.append(self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0])
        return np.concatenate(out, axis=0)


def graph_path(embedder: Embedder, folder: Path) -> Path:
    """The cached graph of ``embedder`` in ``folder``; a hybrid bundle's is named by its tuned
    weights' checksum, so graphs of two bundles never stand in for each other."""
    tuned = f"-{embedder.tuned_key}" if embedder.tuned_key else ""
    return folder / f"guard_embedder{tuned}.onnx"


def load_onnx_embedder(
    embedder: Embedder, store: ModelStore, threads: int = 1, folder: Path | None = None
) -> OnnxEmbedder:
    """The embedder on onnxruntime, its graph exported into ``folder`` (default: the store's
    ``export/guard``) first when missing or built from other weights."""
    from perception.export.manifest import graphs_current, onnx_manifest, write_manifest

    given = Path(embedder.options.model)
    source = given if given.is_dir() else Path(store.resolve(embedder.options.model))
    folder = folder or store.home / "export" / "guard"
    path, sha = graph_path(embedder, folder), sha256_path(source)
    if not graphs_current([path], sha):
        export_embedder(embedder, path)
        rebuild = f"perception export --target cpu --models guard --out {folder}"
        write_manifest(onnx_manifest(path, source, sha, rebuild), folder)
    return OnnxEmbedder(embedder, path, threads)


def parity(
    embedder: Embedder, heads: dict[str, Head], onnx_path: Path, texts: list[str]
) -> dict[str, float]:
    """Largest absolute differences, torch ``embedder`` vs the graph at ``onnx_path`` on
    onnxruntime: features, and the probabilities of ``heads`` (a bundle's, ``Detectors.bundle``)
    over each."""
    onnx = OnnxEmbedder(embedder, onnx_path)
    a, b = embedder(texts), onnx(texts)
    probs = max(float(np.abs(h.prob(a) - h.prob(b)).max()) for h in heads.values())
    return {"feature_max_abs_diff": float(np.abs(a - b).max()), "prob_max_abs_diff": probs}
