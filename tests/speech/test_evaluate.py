"""The benchmark's reporting on hand-made results (the full run is `perception asr-eval`)."""

import pytest

from perception.speech.dataset import Item
from perception.speech.evaluate import METHODS, Scored, command_latency, group_reports


def _scored(i: int, voice: str, snr: float | None, hyp_ok: bool, seconds: float) -> Scored:
    item = Item(
        f"t{i}",
        "test",
        "go to the kitchen",
        "command",
        voice,
        170,
        "white" if snr is not None else "clean",
        snr,
        f"t{i}.wav",
    )
    texts = {m: "go to the kitchen" for m in METHODS}
    if not hyp_ok:
        texts["none"] = "go to the chicken"
    return Scored(
        item, seconds, ("x",), texts, {m: 100.0 * (k + 1) for k, m in enumerate(METHODS)}
    )


def test_group_reports_name_the_worst_voice_and_snr():
    scored = [
        _scored(0, "us", None, True, 4.0),
        _scored(1, "scotland", 5.0, False, 4.2),
        _scored(2, "us", 5.0, True, 9.0),
    ]
    reports = group_reports(scored, "none")
    assert reports["voice"].worst_group == "scotland"
    assert reports["voice"].per_group["scotland"] == pytest.approx(0.25)
    assert reports["snr"].worst_group == "5 dB"
    assert reports["voice"].overall == pytest.approx(1 / 12)
    assert group_reports(scored, "uadf")["voice"].overall == 0.0


def test_command_latency_uses_only_commands_near_four_seconds():
    scored = [_scored(0, "us", None, True, 4.0), _scored(1, "us", None, True, 12.0)]
    latency = command_latency(scored)
    assert latency == {m: 100.0 * (k + 1) for k, m in enumerate(METHODS)}
