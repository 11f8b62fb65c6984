"""Flow control and stream statistics for nodes whose model may be slower than its input.

Owns the two mailboxes between a subscription and a worker: the newest-wins slot for camera
frames (a new item replaces the waiting one, which is counted as dropped, so no queue can grow)
and a bounded first-in-first-out queue for finished utterances (every one is processed in order
unless the queue overflows, which drops the oldest and counts it); and the rate / latency / drop
counters that nodes publish as diagnostics. It knows nothing about ROS or models.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


class _Mailbox(Generic[T]):
    """What both mailboxes share: a condition variable and closing (which wakes waiters)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._closed = False
        self.dropped = 0

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class LatestSlot(_Mailbox[T]):
    """Holds at most one item; ``put`` over a waiting item drops the older one."""

    def __init__(self) -> None:
        super().__init__()
        self._item: T | None = None

    def put(self, item: T) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cond.notify()

    def take(self, timeout_s: float | None = None) -> T | None:
        """The waiting item (and empty the slot), or None after ``timeout_s`` or ``close``."""
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout_s)
            item, self._item = self._item, None
            return item

    def done(self) -> None:
        """Mark a taken item finished (the slot keeps no count of work in progress)."""


class BoundedFifo(_Mailbox[T]):
    """First in, first out, at most ``maxsize`` waiting; ``put`` on a full queue drops the
    oldest waiting item and counts it. ``join`` waits until every item put has been taken
    and marked done."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        super().__init__()
        self.maxsize = maxsize
        self._items: deque[T] = deque()
        self._busy = 0  # taken, not yet done

    def put(self, item: T) -> T | None:
        """Add ``item``; returns the item dropped to make room, if any."""
        with self._cond:
            dropped = self._items.popleft() if len(self._items) >= self.maxsize else None
            self.dropped += dropped is not None
            self._items.append(item)
            self._cond.notify_all()
            return dropped

    def take(self, timeout_s: float | None = None) -> T | None:
        """The oldest waiting item, or None after ``timeout_s`` or ``close``."""
        with self._cond:
            if not self._items and not self._closed:
                self._cond.wait(timeout_s)
            if not self._items:
                return None
            self._busy += 1
            return self._items.popleft()

    def done(self) -> None:
        """Mark one taken item as finished."""
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()

    def join(self, timeout_s: float) -> bool:
        """Wait until nothing is waiting or being processed; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._items and not self._busy, timeout_s)

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)


@dataclass(frozen=True)
class StreamSummary:
    """Counters and timing of one stream over the statistics window."""

    received: int
    processed: int
    dropped: int
    failed: int
    rate_hz: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_max_ms: float


class StreamStats:
    """Counts received / processed / dropped / failed items and keeps recent latencies."""

    def __init__(self, window: int = 200) -> None:
        self.received = self.processed = self.dropped = self.failed = 0
        self._latencies_ms: deque[float] = deque(maxlen=window)
        self._done_times_s: deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()

    def on_received(self) -> None:
        with self._lock:
            self.received += 1

    def on_dropped(self, count: int = 1) -> None:
        with self._lock:
            self.dropped += count

    def on_failed(self) -> None:
        with self._lock:
            self.failed += 1

    def on_processed(self, latency_ms: float) -> None:
        with self._lock:
            self.processed += 1
            self._latencies_ms.append(latency_ms)
            self._done_times_s.append(time.monotonic())

    def summary(self) -> StreamSummary:
        with self._lock:
            lat = np.array(self._latencies_ms, dtype=np.float64)
            times = list(self._done_times_s)
            span_s = times[-1] - times[0] if len(times) > 1 else 0.0
            rate = (len(times) - 1) / span_s if span_s > 0 else 0.0
            pct = np.percentile(lat, [50, 95]) if lat.size else (float("nan"),) * 2
            return StreamSummary(
                received=self.received,
                processed=self.processed,
                dropped=self.dropped,
                failed=self.failed,
                rate_hz=float(rate),
                latency_p50_ms=float(pct[0]),
                latency_p95_ms=float(pct[1]),
                latency_max_ms=float(lat.max()) if lat.size else float("nan"),
            )
