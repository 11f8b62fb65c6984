"""The service logic without ROS: the bounded job queue, the refusal keyword rule."""

from __future__ import annotations

import threading

import pytest

from perception.llm.refusal import is_refusal
from perception.llm.service import Busy, JobQueue, ServiceOptions


def test_job_queue_runs_in_order_and_answers_busy_when_full():
    gate = threading.Event()
    queue = JobQueue(maxsize=1)
    order: list[int] = []
    running = queue.submit(lambda: (gate.wait(5), order.append(0)))
    waiting = queue.submit(lambda: order.append(1))
    with pytest.raises(Busy, match="busy: 2 requests ahead"):
        queue.submit(lambda: order.append(2))
    gate.set()
    running.result(5), waiting.result(5)
    assert order == [0, 1]
    queue.submit(lambda: order.append(3)).result(5)  # room again once the queue drained
    assert order == [0, 1, 3]
    queue.close()


@pytest.mark.parametrize(
    ("reply", "refused"),
    [
        ("I'm sorry, but I can't help with that request.", True),
        ("I CANNOT do that.", True),
        ("Sorry, I won’t assist.", True),
        ("The sky is blue because of Rayleigh scattering.", False),
        ("", False),
    ],
)
def test_refusal_keyword_rule(reply, refused):
    assert is_refusal(reply) is refused


def test_service_options_are_checked():
    with pytest.raises(ValueError, match="queue_size"):
        ServiceOptions(queue_size=0)
