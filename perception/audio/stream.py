"""Resampling a stream that arrives in chunks, with the output of resampling it whole.

Owns :class:`StreamResampler`: each chunk is resampled with enough of its neighbours around it
that torchaudio's windowed-sinc filter (the one :func:`perception.audio.resample` applies, its
kernel built once per stream) sees the same input as it would in one pass, so chunk boundaries
leave no clicks. The price is a delay of a few milliseconds (the filter's half width), given
back by :meth:`StreamResampler.flush`. It knows nothing about messages or models.
"""

from __future__ import annotations

import math

import numpy as np

from perception.audio.io import SAMPLE_RATE

_FILTER_WIDTH = 6  # torchaudio's default lowpass_filter_width (zero crossings per side)
_ROLLOFF = 0.99  # torchaudio's default rolloff


class StreamResampler:
    """Mono float32 chunks at ``rate_hz`` in, the same stream at ``target_hz`` out."""

    def __init__(self, rate_hz: int, target_hz: int = SAMPLE_RATE) -> None:
        g = math.gcd(int(rate_hz), int(target_hz))
        self.rate_hz, self.target_hz = int(rate_hz), int(target_hz)
        self._up, self._down = self.target_hz // g, self.rate_hz // g
        # input samples the filter reaches to either side of an output (torchaudio's "width")
        width = math.ceil(_FILTER_WIDTH * self._down / (min(self._up, self._down) * _ROLLOFF))
        self._context = (math.ceil(width / self._down) + 1) * self._down
        self._kernel = None  # torchaudio.transforms.Resample, built on first use
        self._reset()

    def _reset(self) -> None:
        self._buffer = np.zeros(0, np.float32)  # left context, then input not yet resampled
        self._kept = 0  # samples of left context at the start of the buffer
        self._pending = 0  # input samples after the context, not yet resampled

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """Add a chunk, shape (N,); returns the output it completes (possibly empty)."""
        samples = np.asarray(samples, np.float32)
        if self.rate_hz == self.target_hz:
            return samples
        self._buffer = np.concatenate([self._buffer, samples])
        self._pending += samples.size
        ready = (self._pending - self._context) // self._down * self._down
        return self._emit(ready, self._context) if ready > 0 else np.zeros(0, np.float32)

    def flush(self) -> np.ndarray:
        """The output still held back at the end of the stream; the next chunk starts anew."""
        if self.rate_hz == self.target_hz or self._pending == 0:
            self._reset()
            return np.zeros(0, np.float32)
        out = self._resample(self._buffer)[self._kept_out() :]
        self._reset()
        return out

    def _resample(self, samples: np.ndarray) -> np.ndarray:
        import torch
        import torchaudio

        if self._kernel is None:
            self._kernel = torchaudio.transforms.Resample(
                self.rate_hz, self.target_hz, lowpass_filter_width=_FILTER_WIDTH, rolloff=_ROLLOFF
            )
        with torch.no_grad():
            return self._kernel(torch.from_numpy(np.ascontiguousarray(samples))).numpy()

    def _kept_out(self) -> int:
        return self._kept * self._up // self._down

    def _emit(self, ready: int, right: int) -> np.ndarray:
        """Resample ``ready`` pending samples (a multiple of the rate ratio's denominator)."""
        segment = self._buffer[: self._kept + ready + right]
        first = self._kept_out()
        out = self._resample(segment)[first : first + ready * self._up // self._down]
        keep = min(self._context, self._kept + ready)
        self._buffer = self._buffer[self._kept + ready - keep :]
        self._kept, self._pending = keep, self._pending - ready
        return out
