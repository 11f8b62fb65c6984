"""Newest-wins slot and stream statistics."""

from __future__ import annotations

import threading

from perception.ros.flow import LatestSlot, StreamStats


def test_newest_wins_and_drops_are_counted():
    slot: LatestSlot[int] = LatestSlot()
    for i in range(5):
        slot.put(i)
    assert slot.take(0.01) == 4
    assert slot.dropped == 4
    assert slot.take(0.01) is None


def test_close_wakes_a_waiting_consumer():
    slot: LatestSlot[int] = LatestSlot()
    got = []
    t = threading.Thread(target=lambda: got.append(slot.take(10.0)))
    t.start()
    slot.close()
    t.join(2.0)
    assert not t.is_alive() and got == [None]


def test_stats_summary():
    stats = StreamStats()
    for ms in (10.0, 20.0, 30.0):
        stats.on_received()
        stats.on_processed(ms)
    stats.on_received()
    stats.on_dropped()
    stats.on_failed()
    s = stats.summary()
    assert (s.received, s.processed, s.dropped, s.failed) == (4, 3, 1, 1)
    assert s.latency_p50_ms == 20.0 and s.latency_max_ms == 30.0


def test_fifo_keeps_order_drops_the_oldest_when_full_and_joins():
    from perception.ros.flow import BoundedFifo

    fifo: BoundedFifo[int] = BoundedFifo(3)
    assert [fifo.put(i) for i in range(5)] == [None, None, None, 0, 1]
    assert fifo.dropped == 2 and len(fifo) == 3
    taken = [fifo.take(0.01) for _ in range(3)]
    assert taken == [2, 3, 4] and fifo.take(0.01) is None
    assert not fifo.join(0.01)  # three taken, none marked done
    for _ in taken:
        fifo.done()
    assert fifo.join(0.01)
