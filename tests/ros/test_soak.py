"""A bounded soak (45 s): frames at 30 Hz and real-time audio through the live nodes; every
message each node received is accounted for and its memory does not grow grossly. The longer
run's numbers are in bench/results/soak_2cores.json (``python bench/soak.py``)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.ros, pytest.mark.model, pytest.mark.slow]


def test_every_message_is_accounted_for_under_a_30_hz_load(ros_env):
    from bench.soak import run_soak

    result = run_soak(45.0, log=lambda line: None)
    published, text, speech = result["published"], result["text_detector"], result["speech"]
    assert published["frames"] >= 30 * 40 and published["chunks"] >= 50 * 40
    assert 0 < text["received"] <= published["frames"]
    assert text["received"] == text["processed"] + text["dropped"] + text["failed"]
    assert text["processed"] > 0 and text["failed"] == 0
    chunks = [speech[k] for k in ("chunks_processed", "chunks_failed", "chunks_dropped")]
    assert speech["chunks_received"] == sum(chunks) <= published["chunks"]
    assert speech["chunks_received"] >= 0.99 * published["chunks"]  # loopback, a 5 s queue
    assert speech["received"] == speech["processed"] + speech["dropped"] + speech["failed"] > 0
    for name, slope in result["rss_slope_mb_per_min"].items():
        assert slope < 60.0, (name, result["rss_mb"][name])  # a gross leak, not noise
