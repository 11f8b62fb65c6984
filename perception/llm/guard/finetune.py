"""Fine-tuning the guard encoder: all-MiniLM-L6-v2 with its top layers and a multi-label head
(harmful request, jailbreak, injection, harmful reply) fitted on the guard rows, on the CPU.

Owns the recipe: the layers below the tuned ones stay frozen, so their outputs for every token
window are computed once and cached (:class:`BottomCache`); each step runs only the tuned layers
and the head on a batch of first windows (``max_tokens`` word pieces) with a masked, class-
balanced binary cross-entropy (a row counts only for the detectors whose task has its kind, as
``data.TASK_KINDS`` says). Scoring uses every window of a text, through the same cache, so the
figures are those of :class:`~perception.llm.guard.features.Embedder` with the tuned weights.
Each detector's logit is then Platt-calibrated and thresholded on dev like the LR heads
(:func:`tuned_head`). It knows nothing about sources or folds (:mod:`loso` does).
"""

from __future__ import annotations

import copy
import random
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from perception.llm.guard.data import TASK_KINDS, TASKS, Row, task_rows
from perception.llm.guard.features import (
    EMBED_DIM,
    FEATURE_DIM,
    Embedder,
    FeatureOptions,
    Tuned,
    layer_mask,
    masked_mean,
)
from perception.llm.guard.heads import Head, fit_platt
from perception.llm.guard.loso import LOOKALIKE_SOURCES, Scorers, fold_threshold


def tuned_features(layers: int = 2) -> FeatureOptions:
    """Feature options of a fine-tuned guard with ``layers`` tuned layers, one logit per task."""
    return FeatureOptions(kind="hybrid", tuned_layers=layers, tasks=len(TASKS))


@dataclass(frozen=True)
class FinetuneOptions:
    """epochs over the (capped) training rows; per_source: at most this many training rows of
    one source per epoch (a fresh draw each epoch), so no source drowns the rest; lr for the
    tuned layers, head_lr for the new head; target_fpr as in ``TrainOptions``."""

    features: FeatureOptions = field(default_factory=tuned_features)
    max_tokens: int = 128
    epochs: int = 3
    batch_size: int = 32
    lr: float = 1e-4
    head_lr: float = 2e-3
    weight_decay: float = 0.01
    per_source: int = 400
    target_fpr: float = 0.02
    seed: int = 0


def targets(rows: list[Row]) -> tuple[np.ndarray, np.ndarray]:
    """(N, tasks) 0/1 labels and (N, tasks) masks (1 where the row's kind is in the task)."""
    y = np.zeros((len(rows), len(TASKS)), np.float32)
    m = np.zeros_like(y)
    for j, task in enumerate(TASKS):
        pos, neg = TASK_KINDS[task]
        for i, r in enumerate(rows):
            y[i, j], m[i, j] = float(r.kind in pos), float(r.kind in pos + neg)
    return y, m


class BottomCache:
    """Outputs of the frozen layers (float16, (T, 384)) per token window, computed on demand."""

    def __init__(self, embedder: Embedder, tuned_layers: int) -> None:
        self.embedder, self.layer = embedder, len(embedder.model.encoder.layer) - tuned_layers
        self.store: dict[tuple[int, ...], torch.Tensor] = {}

    @torch.no_grad()
    def fill(self, windows: list[list[int]]) -> None:
        """Compute the windows not cached yet, in batches of similar length."""
        todo = sorted({tuple(w) for w in windows} - self.store.keys(), key=len)
        for start in range(0, len(todo), 64):
            batch = todo[start : start + 64]
            ids, mask = pad([torch.tensor(w) for w in batch])
            out = self.embedder.model(
                input_ids=ids, attention_mask=mask, output_hidden_states=True
            )
            hidden = out.hidden_states[self.layer]  # (B, T, 384)
            for w, h in zip(batch, hidden, strict=True):
                self.store[w] = h[: len(w)].half()

    def batch(self, windows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, 384) float32 frozen-layer outputs and the (B, T) mask of ``windows``."""
        self.fill(windows)
        return pad([self.store[tuple(w)].float() for w in windows])


def pad(items: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad (T_i, ...) tensors to (B, T, ...) with a (B, T) long mask."""
    width = max(len(x) for x in items)
    out = torch.zeros((len(items), width, *items[0].shape[1:]), dtype=items[0].dtype)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    for i, x in enumerate(items):
        out[i, : len(x)], mask[i, : len(x)] = x, 1
    return out, mask


def run_top(net: Tuned, layers: int, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, 384 + tasks) outputs of ``net`` from the frozen layers' (B, T, 384) ``hidden``."""
    ext = layer_mask(net.encoder, mask, hidden)
    for layer in net.encoder.encoder.layer[-layers:]:
        hidden = layer(hidden, attention_mask=ext)
        hidden = hidden[0] if isinstance(hidden, tuple) else hidden
    pooled = masked_mean(hidden, mask)
    return torch.cat([torch.nn.functional.normalize(pooled, dim=-1), net.head(pooled)], -1)


def _epoch_rows(rows: list[Row], options: FinetuneOptions, rng: random.Random) -> list[Row]:
    by_source: dict[str, list[Row]] = {}
    for r in rows:
        by_source.setdefault(r.source, []).append(r)
    picked = [
        r for rs in by_source.values() for r in rng.sample(rs, min(len(rs), options.per_source))
    ]
    return picked


def _batches(rows: list[Row], cache: BottomCache, size: int, rng: random.Random):
    """Index batches of rows of similar first-window length, in random order."""
    lengths = [len(cache.embedder.windows(r.text)[0]) for r in rows]
    order = sorted(range(len(rows)), key=lambda i: (lengths[i], rng.random()))
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    return chunks


def _optimizer(net: Tuned, layers: int, options: FinetuneOptions) -> torch.optim.Optimizer:
    tuned = [p for layer in net.encoder.encoder.layer[-layers:] for p in layer.parameters()]
    groups = [
        {"params": tuned, "lr": options.lr},
        {"params": list(net.head.parameters()), "lr": options.head_lr},
    ]
    return torch.optim.AdamW(groups, weight_decay=options.weight_decay)


def new_net(base: Embedder, options: FinetuneOptions) -> Tuned:
    """A fresh copy of the base encoder with a new head; only the top layers and head train."""
    net = Tuned(copy.deepcopy(base.model), options.features.tasks)
    layers = options.features.tuned_layers
    for p in net.encoder.parameters():
        p.requires_grad_(False)
    for layer in net.encoder.encoder.layer[-layers:]:
        for p in layer.parameters():
            p.requires_grad_(True)
    return net


def fit_net(rows: list[Row], cache: BottomCache, options: FinetuneOptions) -> Tuned:
    """The fine-tuned encoder: ``options.epochs`` epochs over ``rows`` (first windows)."""
    torch.manual_seed(options.seed)
    rng, layers = random.Random(options.seed), options.features.tuned_layers
    net = new_net(cache.embedder, options)
    opt = _optimizer(net, layers, options)
    net.train()
    for epoch in range(options.epochs):
        picked, start, total = _epoch_rows(rows, options, rng), time.perf_counter(), 0.0
        y, m = (torch.from_numpy(a) for a in targets(picked))
        weight = m * class_weights(y, m)  # (N, tasks), 0 where a row does not count
        for idx in _batches(picked, cache, options.batch_size, rng):
            loss = _step(net, cache, [picked[i] for i in idx], y[idx], weight[idx], layers)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        print(
            f"epoch {epoch + 1}: {len(picked)} rows, loss {total / len(picked):.4f}, "
            f"{time.perf_counter() - start:.0f} s",
            file=sys.stderr,
        )
    return net.eval()


def class_weights(y: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """(N, tasks) weight of each label: each task's positives and its negatives weigh half of
    that task's loss (``m`` masks the rows that count)."""
    pos = (y * m).sum(0).clamp(min=1)
    neg = ((1 - y) * m).sum(0).clamp(min=1)
    return torch.where(y > 0, (pos + neg) / (2 * pos), (pos + neg) / (2 * neg))


def _step(net, cache, rows, y, weight, layers) -> torch.Tensor:
    hidden, mask = cache.batch([cache.embedder.windows(r.text)[0] for r in rows])
    logits = run_top(net, layers, hidden, mask)[:, EMBED_DIM:]
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, weight=weight)
    return loss * y.shape[1] * len(rows) / weight.gt(0).sum().clamp(min=1)


@torch.no_grad()
def score(net: Tuned, cache: BottomCache, texts: list[str], layers: int) -> np.ndarray:
    """(N, 384 + tasks) features of ``texts`` as :class:`Embedder` computes them with ``net``:
    mean embedding and max logit over every window of each text."""
    per_text = [cache.embedder.windows(t) for t in texts]
    flat = [w for ws in per_text for w in ws]
    order = sorted(range(len(flat)), key=lambda i: len(flat[i]))
    out = np.zeros((len(flat), EMBED_DIM + net.head.out_features), np.float32)
    for start in range(0, len(order), 64):
        idx = order[start : start + 64]
        hidden, mask = cache.batch([flat[i] for i in idx])
        out[idx] = run_top(net, layers, hidden, mask).numpy()
    rows, start = [], 0
    for ws in per_text:
        e = out[start : start + len(ws)]
        start += len(ws)
        rows.append(np.concatenate([e[:, :EMBED_DIM].mean(0), e[:, EMBED_DIM:].max(0)]))
    return np.stack(rows)


def tuned_head(column: int, dev: tuple[np.ndarray, np.ndarray], looks: np.ndarray, fpr: float):
    """A :class:`Head` that reads the detector's logit (feature ``column``), Platt-calibrated on
    the dev (x, y) rows, thresholded at ``fpr`` on dev negatives and dev look-alikes (mask)."""
    x, y = dev
    dim = x.shape[1]
    weight = np.zeros(dim, np.float32)
    weight[column] = 1.0
    head = Head(np.zeros(dim, np.float32), np.ones(dim, np.float32), weight, 0.0)
    a, b = fit_platt(head.logit(x), y)
    p = Head(head.mean, head.scale, weight, 0.0, a, b).prob(x)
    threshold = fold_threshold(p[y == 0], p[looks & (y == 0)], fpr)
    return Head(head.mean, head.scale, weight, 0.0, a, b, threshold)


def calibrated_heads(net: Tuned, cache: BottomCache, dev: list[Row], options) -> dict[str, Head]:
    """One :func:`tuned_head` per task, from the dev rows."""
    memo = Memo(net, cache, options.features.tuned_layers)
    heads = {}
    for j, task in enumerate(TASKS):
        rows, y = task_rows(dev, task)
        looks = np.array([r.source in LOOKALIKE_SOURCES for r in rows], bool)
        dev_xy = (memo(rows), np.array(y))
        heads[task] = tuned_head(EMBED_DIM + j, dev_xy, looks, options.target_fpr)
    return heads


class Memo:
    """Features of rows under one tuned net, each text scored once."""

    def __init__(self, net: Tuned, cache: BottomCache, layers: int) -> None:
        self.net, self.cache, self.layers = net, cache, layers
        self.known: dict[str, np.ndarray] = {}

    def __call__(self, rows: list[Row]) -> np.ndarray:
        todo = list(dict.fromkeys(r.text for r in rows if r.text not in self.known))
        if todo:
            self.known |= dict(
                zip(todo, score(self.net, self.cache, todo, self.layers), strict=True)
            )
        dim = EMBED_DIM + self.net.head.out_features
        return np.stack([self.known[r.text] for r in rows]) if rows else np.zeros((0, dim))


def tuned_fitter(cache: BottomCache, options: FinetuneOptions):
    """A :data:`~perception.llm.guard.loso.Fitter`: fine-tune on the fold's train rows,
    calibrate on its dev rows; every task is fitted at once."""

    def fit(train: list[Row], dev: list[Row], tasks) -> Scorers:
        net = fit_net(train, cache, options)
        heads = calibrated_heads(net, cache, dev, options)
        memo = Memo(net, cache, options.features.tuned_layers)
        return {t: (lambda rs, h=heads[t]: h.prob(memo(rs)), heads[t].threshold) for t in tasks}

    return fit


def tuned_state(net: Tuned, layers: int) -> dict[str, torch.Tensor]:
    """The parameters fine-tuning changed (top ``layers`` layers and the head), float16."""
    first = len(net.encoder.encoder.layer) - layers
    keep = ("head.", *(f"encoder.encoder.layer.{i}." for i in range(first, first + layers)))
    return {k: v.detach().half() for k, v in net.state_dict().items() if k.startswith(keep)}


def finetune(rows: list[Row], cache: BottomCache, options: FinetuneOptions):
    """The guard's tuned net and calibrated heads: fitted on the train split, calibrated and
    thresholded on the dev split."""
    net = fit_net([r for r in rows if r.split == "train"], cache, options)
    dev = [r for r in rows if r.split == "dev"]
    return net, calibrated_heads(net, cache, dev, options)


def widened(head: Head, extra: int) -> Head:
    """An LR head over frozen features, reading ``extra`` more (tuned) features with weight 0."""
    pad = np.zeros(extra, np.float32)
    return replace(
        head,
        mean=np.concatenate([head.mean, pad]),
        scale=np.concatenate([head.scale, pad + 1]),
        weight=np.concatenate([head.weight, pad]),
    )


def logit_head(head: Head, width: int, column: int) -> Head:
    """A :func:`tuned_head` moved to read feature ``column`` of ``width`` (Platt and threshold
    kept: the logit it reads is the same number)."""
    weight = np.zeros(width, np.float32)
    weight[column] = 1.0
    return replace(head, mean=weight * 0, scale=weight * 0 + 1, weight=weight)


def hybrid_heads(lr: dict[str, Head], tuned: dict[str, Head], use_tuned: tuple[str, ...]):
    """One head per task over hybrid features: the tuned logit for ``use_tuned``, else LR."""
    width = FEATURE_DIM + len(TASKS)
    return {
        task: logit_head(tuned[task], width, FEATURE_DIM + j)
        if task in use_tuned
        else widened(lr[task], len(TASKS))
        for j, task in enumerate(TASKS)
    }


def save_hybrid(net: Tuned, heads: dict[str, Head], rows: list[Row], folder, options, meta, out):
    """Write the hybrid bundle (tuned parameters float16, ``heads`` over hybrid features) and
    its card to ``out``; returns the test-split report of the bundle as it loads."""
    from perception.llm.guard.detectors import Bundle
    from perception.llm.guard.train import save_bundle_and_card

    layers = options.features.tuned_layers
    state = tuned_state(net, layers)
    recipe = (
        f"heads for {', '.join(meta['tuned_detectors'])} read the logits of a fine-tuned copy of "
        f"all-MiniLM-L6-v2's top {layers} layers with a multi-label head ({options.epochs} "
        "epochs); the others are logistic-regression heads over frozen all-MiniLM-L6-v2 features"
    )
    meta = {**meta, "target_fpr": options.target_fpr, "recipe": recipe}
    bundle = Bundle(dict(heads), options.features, meta=meta, tuned=state)
    embedder = Embedder(options.features, tuned=state)
    return save_bundle_and_card(bundle, embedder, rows, folder, out)
