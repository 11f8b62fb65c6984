"""The recogniser's input, decoding and pooling, on hand-made arrays (no weights)."""

import numpy as np
import pytest
import torch

from perception.vision.recognizer import MIN_WIDTH, ctc_decode, line_batch, pool


def test_line_batch_keeps_aspect_pads_to_the_widest_and_is_bgr():
    red = np.zeros((24, 48, 3), np.uint8)
    red[..., 0] = 255
    wide = np.full((10, 400, 3), 255, np.uint8)
    batch = line_batch([red, wide])
    assert batch.x.shape == (2, 3, 48, 1920)  # 400 / 10 × 48 = 1920 (ratio 40)
    assert list(batch.widths) == [96, 1920] and list(batch.steps) == [12, 240]
    assert batch.x[0, 2, 0, 0] == 1.0 and batch.x[0, 0, 0, 0] == -1.0  # R is the third channel
    assert (batch.x[0, :, :, 96:] == 0).all()  # padding: mid-grey after normalisation
    assert line_batch([red]).x.shape[3] == MIN_WIDTH  # never narrower than rapidocr's 320


def test_ctc_merges_repeats_drops_blanks_and_averages_kept_steps():
    chars = ("", "a", "b", " ")
    steps = [1, 1, 0, 1, 2, 2, 0, 3, 0]  # a a _ a b b _ ' ' _
    probs = np.full((1, len(steps), 4), 0.01, np.float32)
    for t, c in enumerate(steps):
        probs[0, t, c] = 0.5 + 0.05 * t
    ((text, score),) = ctc_decode(probs, chars)
    assert text == "aab "
    assert score == pytest.approx(np.mean([0.5, 0.65, 0.7, 0.85]))  # first step of each run
    assert ctc_decode(np.eye(4, dtype=np.float32)[[0, 0]][None], chars) == [("", 0.0)]


def test_pool_ignores_the_padding_steps():
    steps = torch.zeros(2, 480, 1, 6)
    steps[:, :, :, :2] = 1.0
    steps[:, :, :, 2:] = 5.0  # padding of the first crop
    pooled = pool(steps, np.array([2, 6]))
    assert torch.equal(pooled[0, :480], torch.ones(480)) and torch.equal(
        pooled[0, 480:], torch.ones(480)
    )
    assert torch.allclose(pooled[1, :480], torch.full((480,), 22 / 6))
    assert torch.equal(pool(steps)[0], pooled[1])


def test_width_batches_group_similar_widths_and_cover_every_crop_once():
    from perception.vision.recognizer import BATCH, width_batches

    rng = np.random.default_rng(0)
    crops = [np.zeros((48, int(w), 3), np.uint8) for w in rng.integers(20, 2000, 150)]
    batches = width_batches(crops)
    assert sorted(np.concatenate(batches).tolist()) == list(range(150))
    for b in batches:
        widths = [max(320, min(1920, c.shape[1])) for c in (crops[i] for i in b)]
        assert len(b) <= BATCH and max(widths) <= 1.5 * min(widths)
