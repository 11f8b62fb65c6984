"""Chunked resampling gives the output of resampling the whole stream at once."""

from __future__ import annotations

import numpy as np
import pytest

from perception.audio import resample
from perception.audio.stream import StreamResampler


@pytest.mark.parametrize(
    "rate_hz, chunk", [(48000, 1024), (44100, 1024), (8000, 160), (22050, 333)]
)
def test_chunks_give_the_whole_stream_resampled(rate_hz, chunk):
    x = np.random.default_rng(rate_hz).standard_normal(rate_hz + 123).astype(np.float32) * 0.1
    stream = StreamResampler(rate_hz)
    parts = [stream.feed(x[i : i + chunk]) for i in range(0, x.size, chunk)]
    out = np.concatenate([*parts, stream.flush()])
    whole = resample(x, rate_hz, 16000)
    assert out.shape == whole.shape
    np.testing.assert_allclose(out, whole, atol=1e-5)
    assert max(p.size for p in parts) > 0  # output flows before the end, not only at flush


def test_same_rate_passes_through_and_flush_starts_a_new_stream():
    same = StreamResampler(16000)
    x = np.arange(5, dtype=np.float32)
    np.testing.assert_array_equal(same.feed(x), x)
    assert same.flush().size == 0
    down = StreamResampler(48000)
    first = np.concatenate([down.feed(np.ones(4800, np.float32)), down.flush()])
    second = np.concatenate([down.feed(np.ones(4800, np.float32)), down.flush()])
    assert first.size == second.size == 1600
    np.testing.assert_allclose(first, second, atol=1e-6)
