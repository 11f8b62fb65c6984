"""Training helpers: the per-text feature cache (a fake embedder, no model)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception.llm.guard.data import Row
from perception.llm.guard.train import featurize


@dataclass(frozen=True)
class _Opts:
    model: str = "fake"
    window_tokens: int = 8


class _Fake:
    options = _Opts()

    def __init__(self):
        self.calls: list[list[str]] = []

    def __call__(self, texts):
        self.calls.append(list(texts))
        return np.array([[len(t), t.count("a")] for t in texts], np.float32)


def test_featurize_embeds_only_texts_the_cache_lacks(tmp_path):
    cache, fake = tmp_path / "f.npz", _Fake()
    rows = [Row(t, "benign", "s", "f", "train") for t in ("a", "bb", "a")]
    first = featurize(rows, fake, cache)
    assert first.tolist() == [[1, 1], [2, 0], [1, 1]] and fake.calls == [["a", "bb"]]
    more = rows + [Row("aaa", "benign", "s", "f", "train")]
    second = featurize(more, fake, cache)
    assert fake.calls[-1] == ["aaa"] and second[3].tolist() == [3, 3]
    assert np.array_equal(second[:3], first)
