import itertools
import math

import numpy as np
import pytest
import torch

from perception.avsr.fusion import VisualPrefixScorer, av_uadf_weight, split_text


def _brute(logp: np.ndarray) -> dict[tuple[int, ...], float]:
    """Probability of every collapsed label sequence by enumerating all paths."""
    p = np.exp(logp)
    out: dict[tuple[int, ...], float] = {}
    t, v = p.shape
    for path in itertools.product(range(v), repeat=t):
        seq, prev = [], None
        for k in path:
            if k != prev and k != 0:
                seq.append(k)
            prev = k
        pr = float(np.prod([p[i, k] for i, k in enumerate(path)]))
        out[tuple(seq)] = out.get(tuple(seq), 0.0) + pr
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_prefix_and_complete_match_enumeration(seed):
    rng = np.random.default_rng(seed)
    vocab = ["go", "to", "the"]
    s = VisualPrefixScorer(rng.normal(size=(5, 4)) * 2, vocab)
    full = _brute(s.logp)
    assert sum(full.values()) == pytest.approx(1.0)
    for seq in [(1,), (1, 2), (2, 2), (1, 2, 1), (3,), (3, 1, 2)]:
        words = [vocab[i - 1] for i in seq]
        prefix = sum(v for c, v in full.items() if c[: len(seq)] == seq)
        assert math.exp(s.prefix(words)) == pytest.approx(prefix, rel=1e-9, abs=1e-12)
        assert math.exp(s.complete(words)) == pytest.approx(
            full.get(seq, 0.0), rel=1e-9, abs=1e-12
        )


def test_text_sums_the_unfinished_word_over_the_vocabulary():
    rng = np.random.default_rng(2)
    vocab = ["go", "garage", "garden", "to"]
    s = VisualPrefixScorer(rng.normal(size=(6, 5)), vocab)
    both = np.logaddexp(s.prefix(["go", "garage"]), s.prefix(["go", "garden"]))
    assert s.text(" Go gar") == pytest.approx(both)
    assert s.text(" Go garden.") == pytest.approx(s.prefix(["go", "garden"]))
    assert s.text(" Go garden.", ended=True) == pytest.approx(s.complete(["go", "garden"]))
    assert s.text(" Go kitchen") == -math.inf  # no vocabulary word starts so


def test_split_text():
    assert split_text(" Move 5 meters") == (["move", "five"], "meters")
    assert split_text(" Move 5 meters.") == (["move", "five", "meters"], "")
    assert split_text("") == ([], "")


def test_av_uadf_weight_grows_with_audio_entropy():
    sure = torch.tensor([0.98, 0.01, 0.01])
    unsure = torch.tensor([0.34, 0.33, 0.33])
    assert av_uadf_weight(sure) < av_uadf_weight(unsure) <= 0.5
    assert av_uadf_weight(torch.tensor([1.0, 0.0])) == pytest.approx(0.0)
