"""The benchmark's tuning and reporting on hand-made results (the run is `perception asr-eval`)."""

import pytest

from perception.speech.dataset import Item
from perception.speech.evaluate import (
    METHODS,
    DevItem,
    Proposal,
    Scored,
    command_latency,
    group_reports,
    tune_dev,
    versus_am,
)
from perception.speech.guards import Verdict


def _item(i: int, voice: str = "us", snr: float | None = None, text="go to the kitchen") -> Item:
    noise = "white" if snr is not None else "clean"
    return Item(f"t{i}", "test", text, "command", voice, 170, noise, snr, f"t{i}.wav")


def _scored(i: int, voice: str, snr: float | None, hyp_ok: bool, seconds: float) -> Scored:
    texts = {m: "go to the kitchen" for m in METHODS}
    if not hyp_ok:
        texts["none"] = "go to the chicken"
    return Scored(
        _item(i, voice, snr),
        seconds,
        ("x",),
        texts,
        {m: 100.0 * (k + 1) for k, m in enumerate(METHODS)},
    )


def test_group_reports_name_the_worst_voice_and_noise():
    scored = [
        _scored(0, "us", None, True, 4.0),
        _scored(1, "scotland", 5.0, False, 4.2),
        _scored(2, "us", 5.0, True, 9.0),
    ]
    reports = group_reports(scored, "none")
    assert reports["voice"].worst_group == "scotland"
    assert reports["voice"].per_group["scotland"] == pytest.approx(0.25)
    assert reports["noise"].worst_group == "white 5 dB"
    assert reports["voice"].overall == pytest.approx(1 / 12)
    assert group_reports(scored, "uadf")["voice"].overall == 0.0


def test_command_latency_uses_only_commands_near_four_seconds():
    scored = [_scored(0, "us", None, True, 4.0), _scored(1, "us", None, True, 12.0)]
    latency = command_latency(scored)
    assert latency == {m: 100.0 * (k + 1) for k, m in enumerate(METHODS)}


def test_bootstrap_interval_brackets_the_difference():
    scored = [_scored(i, "us", None, i % 3 != 0, 4.0) for i in range(30)]  # AM-only errs on 10
    d = versus_am(scored, "uadf")
    assert d["difference"] == pytest.approx(-10 / 120)
    assert d["low"] <= d["difference"] <= d["high"] < 0


def _proposal(text: str, llm_score: float, best_score: float = -0.5) -> Proposal:
    return Proposal(text, False, Verdict(False, "", llm_score, best_score))


def test_dev_tuning_picks_the_margin_that_helps_without_hurting_a_group():
    # the LLM fixes item 0 at a cost of 0.2 nats/token, and breaks item 1 at 0.6
    fix = _proposal("go to the kitchen", -0.7)
    breaks = _proposal("go to the garden", -1.1)
    dev = [
        DevItem(_item(0, "us"), "go to the chicken", {"ger": fix, "uadf": fix, "static@1": fix}),
        DevItem(
            _item(1, "nyc"),
            "go to the kitchen",
            {"ger": breaks, "uadf": breaks, "static@1": breaks},
        ),
    ]
    tuned = tune_dev(dev, (0.0, 0.3, 1.0), (1.0,))
    assert tuned["margin"] == 0.3  # 1.0 also takes the breaking text: nyc loses 25 points
    assert tuned["by_margin"][0.3]["uadf"] == 0.0
    assert tuned["by_margin"][1.0]["worst_group_loss"] == pytest.approx(0.25)
