"""The fault-injection suite's ledger: every bad input a test tries is entered with its outcome.

Outcomes: ``refused`` (a typed error with a one-line reason before any work), ``counted`` (taken
into a run and counted as failed or skipped with a reason), ``used`` (odd but valid: processed
normally). A *crash* is a fault test that ends in an exception other than a failed assertion;
*lost* messages are those a replay neither processed, failed, skipped nor reported as beyond the
end of a damaged bag. With ``PERCEPTION_FAULTS_RECORD=1`` the totals of a run go to
``bench/results/faults.json``, which docs/bad-inputs.md quotes (checked by ``test_readme.py``).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.ros.conftest import ros_env  # noqa: F401  (the fixture, for the launch faults)

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "faults.json"
OUTCOMES = ("refused", "counted", "used")


@dataclass
class Ledger:
    inputs: Counter = field(default_factory=Counter)  # (group, outcome) -> inputs tried
    lost: int = 0
    crashes: int = 0

    def tried(self, group: str, outcome: str, lost: int = 0) -> None:
        """Enter one bad input of ``group`` and its outcome (after the test checked it)."""
        assert outcome in OUTCOMES, outcome
        self.inputs[(group, outcome)] += 1
        self.lost += lost

    def totals(self) -> dict:
        groups: dict[str, dict[str, int]] = {}
        for (group, outcome), n in sorted(self.inputs.items()):
            groups.setdefault(group, dict.fromkeys(OUTCOMES, 0))[outcome] = n
        return {
            "inputs_tried": sum(self.inputs.values()),
            "crashes": self.crashes,
            "messages_lost_or_uncounted": self.lost,
            "by_group": groups,
        }


LEDGER = Ledger()


@pytest.fixture
def ledger() -> Ledger:
    return LEDGER


def pytest_runtest_makereport(item, call):
    """A fault test (one that enters inputs in the ledger) that raised anything but a failed
    assertion is a crash."""
    if call.excinfo is not None and call.when == "call" and "ledger" in item.fixturenames:
        if not call.excinfo.errisinstance((AssertionError, pytest.skip.Exception)):
            LEDGER.crashes += 1


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("PERCEPTION_FAULTS_RECORD") == "1" and LEDGER.inputs:
        RESULTS.write_text(json.dumps(LEDGER.totals(), indent=2) + "\n")
