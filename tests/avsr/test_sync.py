import numpy as np

from perception.avsr.sync import FrameBuffer, StreamClock


def _frame(v: int) -> np.ndarray:
    return np.full((4, 4, 3), v, np.uint8)


def test_window_returns_frames_in_stamp_order_even_when_they_arrive_late():
    buf = FrameBuffer(slack_s=0.05)
    for t in [0.0, 0.1, 0.3, 0.2, 0.4, 0.5]:
        buf.add(100.0 + t, _frame(int(t * 10)))
    frames, stamps = buf.window(100.1, 100.4)
    assert np.allclose(stamps, [100.1, 100.2, 100.3, 100.4])
    assert [int(f[0, 0, 0]) for f in frames] == [1, 2, 3, 4]


def test_window_not_covered_gives_none():
    buf = FrameBuffer(slack_s=0.05)
    for t in [0.0, 0.1, 0.2]:
        buf.add(t, _frame(0))
    assert buf.window(0.1, 0.9) is None  # the camera stopped before the utterance ended
    assert FrameBuffer().window(0, 1) is None


def test_old_frames_are_dropped_and_the_clock_maps_stream_time():
    buf = FrameBuffer(keep_s=1.0)
    for i in range(30):
        buf.add(i * 0.1, _frame(i))
    assert buf.stamps[0] >= 2.9 - 1.0 - 1e-9
    clock = StreamClock()
    clock.observe(50.0, 0.0)
    clock.observe(51.0, 1.0)  # later chunks do not move the origin
    assert clock.to_header(2.5) == 52.5
