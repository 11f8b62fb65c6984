"""`perception avsr-eval --json` end to end on a fresh data folder (one clip of each kind per
split): the issue's JSON shape, every method at every SNR, and numbers that are WERs."""

import json

import pytest

from perception.cli import main

pytestmark = [pytest.mark.model, pytest.mark.slow]


def test_avsr_eval_json(tmp_path, capsys):
    rc = main(["avsr-eval", "--json", "--limit", "1", "--threads", "1", "--data", str(tmp_path)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    table = out["snr_db"]
    assert list(table) == ["clean", "10", "5", "0", "-5"]
    for row in table.values():
        assert set(row) == {"audio", "static", "av-uadf"}
        assert all(0.0 <= v < 5.0 for v in row.values())
    gate = out["gate"]["all"]
    assert gate["audio-visual"]["tp"] + gate["audio-visual"]["fn"] == 5  # 1 speaker x 5 SNRs
