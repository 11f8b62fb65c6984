"""Approximate-time pairing of camera frames with audio, by header stamps.

The speech node and the bag replay both hear audio in chunks and see frames at the camera's
rate; neither arrives in lock step. :class:`FrameBuffer` keeps the recent frames with their
header stamps (seconds), and hands back those that cover an utterance once the utterance's
start and end are known on the same clock (:class:`StreamClock` maps the segmenter's stream
seconds to header time from the first audio chunk's stamp). A window that the frames do not
cover within ``slack_s`` at both ends yields no frames, and the utterance is recognised from
audio alone.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np


@dataclass
class StreamClock:
    """Header time of the audio stream's sample 0 (set by the first chunk of a stream)."""

    origin_s: float | None = None

    def observe(self, chunk_stamp_s: float, stream_s: float) -> None:
        """A chunk stamped ``chunk_stamp_s`` starts at ``stream_s`` seconds into the stream."""
        if self.origin_s is None:
            self.origin_s = chunk_stamp_s - stream_s

    def to_header(self, stream_s: float) -> float | None:
        return None if self.origin_s is None else self.origin_s + stream_s

    def reset(self) -> None:
        self.origin_s = None


@dataclass
class FrameBuffer:
    """The last ``keep_s`` seconds of frames, ordered by stamp (late frames are inserted in
    order; a frame with a stamp already held replaces it)."""

    keep_s: float = 30.0
    slack_s: float = 0.2
    stamps: list[float] = field(default_factory=list)
    frames: list[np.ndarray] = field(default_factory=list)

    def add(self, stamp_s: float, frame: np.ndarray) -> None:
        i = bisect.bisect_left(self.stamps, stamp_s)
        if i < len(self.stamps) and self.stamps[i] == stamp_s:
            self.frames[i] = frame
        else:
            self.stamps.insert(i, stamp_s)
            self.frames.insert(i, frame)
        cut = bisect.bisect_left(self.stamps, self.stamps[-1] - self.keep_s)
        del self.stamps[:cut], self.frames[:cut]

    def window(self, start_s: float, end_s: float) -> tuple[np.ndarray, np.ndarray] | None:
        """(frames (N, H, W, 3), stamps (N,)) within [start − slack, end + slack], or None when
        the buffer does not reach both ends of the window within the slack."""
        if (
            not self.stamps
            or self.stamps[0] > start_s + self.slack_s
            or self.stamps[-1] < end_s - self.slack_s
        ):
            return None
        lo = bisect.bisect_left(self.stamps, start_s - self.slack_s)
        hi = bisect.bisect_right(self.stamps, end_s + self.slack_s)
        if hi - lo < 2:
            return None
        return np.stack(self.frames[lo:hi]), np.array(self.stamps[lo:hi])

    def clear(self) -> None:
        self.stamps.clear()
        self.frames.clear()
