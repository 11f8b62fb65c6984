"""The docs (docs/bad-inputs.md, moved there from the README) quote the fault suite's own totals
(bench/results/faults.json, written by a run with PERCEPTION_FAULTS_RECORD=1), never numbers
typed by hand."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO
from tests.faults.conftest import RESULTS

pytestmark = pytest.mark.faults


def test_readme_quotes_the_recorded_totals():
    totals = json.loads(RESULTS.read_text())
    line = (
        f"{totals['inputs_tried']} bad inputs tried, {totals['crashes']} crashes, "
        f"{totals['messages_lost_or_uncounted']} messages lost or uncounted"
    )
    assert line in (REPO / "docs" / "bad-inputs.md").read_text()
    assert totals["crashes"] == 0 and totals["messages_lost_or_uncounted"] == 0
