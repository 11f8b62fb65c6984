"""Fine-tuning pieces on a tiny random BERT (no weights from the store, no real training)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from perception.llm.guard import finetune as ft
from perception.llm.guard.data import Row
from perception.llm.guard.features import (
    EMBED_DIM,
    FEATURE_DIM,
    Hybrid,
    Pooled,
    Tuned,
    hybrid_state,
)
from perception.llm.guard.heads import Head

transformers = pytest.importorskip("transformers")


def _tiny_bert(layers: int = 2) -> torch.nn.Module:
    config = transformers.BertConfig(
        vocab_size=50,
        hidden_size=EMBED_DIM,
        num_hidden_layers=layers,
        num_attention_heads=4,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    return transformers.BertModel(config, add_pooling_layer=False).eval()


class _FakeEmbedder:
    """What BottomCache reads: ``model`` and ``windows`` (one id per word, [CLS]=1 ... [SEP]=2)."""

    def __init__(self, model):
        self.model = model

    def windows(self, text: str) -> list[list[int]]:
        ids = [3 + len(w) % 40 for w in text.split()]
        return [[1, *ids[i : i + 4], 2] for i in range(0, len(ids), 4)]


def test_targets_count_a_row_only_for_its_task():
    rows = [
        Row("a", "harmful", "s", "f", "train"),
        Row("b", "benign", "s", "f", "train"),
        Row("c", "harmful_reply", "s", "f", "train"),
    ]
    y, m = ft.targets(rows)  # tasks: harmful, jailbreak, injection, reply
    assert y.tolist() == [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]
    assert m.tolist() == [[1, 0, 0, 0], [1, 1, 1, 0], [0, 0, 0, 1]]


def test_class_weights_give_each_side_of_a_task_half_its_weight():
    y = torch.tensor([[1.0], [0.0], [0.0], [0.0]])
    w = ft.class_weights(y, torch.ones_like(y))
    assert float((w * y).sum()) == pytest.approx(float((w * (1 - y)).sum()))


def test_cached_bottom_layers_then_top_layers_equal_the_whole_net():
    net = Tuned(_tiny_bert(2), tasks=4).eval()
    cache = ft.BottomCache(_FakeEmbedder(net.encoder), tuned_layers=1)
    texts = ["one two three", "a much longer text of nine words to cut up"]
    windows = [w for t in texts for w in cache.embedder.windows(t)]
    hidden, mask = cache.batch(windows)
    with torch.no_grad():
        top = ft.run_top(net, 1, hidden, mask)
        ids, _ = ft.pad([torch.tensor(w) for w in windows])
        whole = net(ids, mask)
    assert top.shape == (len(windows), EMBED_DIM + 4)
    assert torch.allclose(top, whole, atol=2e-2)  # the cache holds float16
    feats = ft.score(net, cache, texts, 1)
    assert feats.shape == (2, EMBED_DIM + 4)
    assert np.allclose(feats[1, EMBED_DIM:], whole[1:, EMBED_DIM:].max(0).values, atol=2e-2)


def test_only_the_top_layers_and_the_head_train_and_are_saved():
    base = _FakeEmbedder(_tiny_bert(2))
    net = ft.new_net(base, ft.FinetuneOptions(features=ft.tuned_features(1)))
    trainable = {n for n, p in net.named_parameters() if p.requires_grad}
    assert trainable and all(
        n.startswith(("head.", "encoder.encoder.layer.1.")) for n in trainable
    )
    state = ft.tuned_state(net, 1)
    assert set(state) >= trainable and all(v.dtype == torch.float16 for v in state.values())


def test_tuned_head_reads_its_logit_and_keeps_look_alikes_under_the_rate():
    rng = np.random.default_rng(0)
    x = np.zeros((200, EMBED_DIM + 4), np.float32)
    y = np.array([1] * 50 + [0] * 150)
    x[:, EMBED_DIM + 2] = np.where(y == 1, 2.0, -2.0) + rng.normal(0, 1.5, 200)
    looks = np.array([False] * 100 + [True] * 100)
    head = ft.tuned_head(EMBED_DIM + 2, (x, y), looks, 0.05)
    p = head.prob(x)
    assert p[y == 1].mean() > p[y == 0].mean()
    assert np.mean(p[looks & (y == 0)] >= head.threshold) <= 0.05
    assert np.mean(p[y == 0] >= head.threshold) <= 0.05


def test_hybrid_net_is_frozen_minilm_beside_the_tuned_logits():
    base = _FakeEmbedder(_tiny_bert(2))
    tuned = ft.new_net(base, ft.FinetuneOptions(features=ft.tuned_features(1)))
    with torch.no_grad():
        for p in tuned.parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))  # as if trained: differs from the base
    hybrid = Hybrid(base.model, 1, 4).eval()
    hybrid.load_state_dict(hybrid_state(ft.tuned_state(tuned, 1), 1, 2), strict=False)
    ids, mask = (
        torch.tensor([[1, 5, 6, 2, 0], [1, 7, 8, 9, 2]]),
        torch.tensor([[1] * 4 + [0], [1] * 5]),
    )
    with torch.no_grad():
        got = hybrid(ids, mask)
        frozen, logits = Pooled(base.model)(ids, mask), tuned.eval()(ids, mask)[:, EMBED_DIM:]
    assert torch.allclose(got[:, :EMBED_DIM], frozen, atol=1e-5)
    assert torch.allclose(got[:, EMBED_DIM:], logits, atol=1e-2)  # tuned weights in float16
    assert not torch.allclose(got[:, :EMBED_DIM], tuned(ids, mask)[:, :EMBED_DIM], atol=1e-3)


def test_hybrid_heads_read_their_own_columns():
    rng = np.random.default_rng(0)
    lr = {
        t: Head(rng.random(FEATURE_DIM), rng.random(FEATURE_DIM) + 1, rng.random(FEATURE_DIM), 0.3)
        for t in ("harmful", "jailbreak", "injection", "reply")
    }
    tuned = {
        t: ft.tuned_head(
            EMBED_DIM + j,
            (rng.normal(size=(40, EMBED_DIM + 4)), np.arange(40) % 2),
            np.zeros(40, bool),
            0.1,
        )
        for j, t in enumerate(lr)
    }
    heads = ft.hybrid_heads(lr, tuned, ("harmful",))
    x = rng.normal(size=(5, FEATURE_DIM + 4)).astype(np.float32)
    assert np.allclose(heads["jailbreak"].prob(x), lr["jailbreak"].prob(x[:, :FEATURE_DIM]))
    short = np.concatenate([np.zeros((5, EMBED_DIM)), x[:, FEATURE_DIM:]], 1)
    assert np.allclose(heads["harmful"].prob(x), tuned["harmful"].prob(short))
    assert heads["harmful"].threshold == tuned["harmful"].threshold
