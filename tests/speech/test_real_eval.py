"""Scoring the methods on real recordings from proposals (no models)."""

from pathlib import Path

from perception.speech.evaluate import Proposal
from perception.speech.guards import Verdict
from perception.speech.real_eval import (
    RealUtterance,
    choose_margin,
    final_text,
    llm_behaviour,
    method_report,
)
from perception.speech.recordings import Recording


def _utt(rec, nbest, proposal, llm_score, best_score=-0.5, context=()):
    verdict = Verdict(False, "", llm_score, best_score)
    props = {"ger": Proposal(proposal, False, verdict)}
    return RealUtterance(rec, tuple(nbest), context, 100.0, props, {"ger": 50.0})


def _data():
    r1 = Recording(Path("en_a_1.wav"), "turn left at the door", "a", "read")
    r2 = Recording(Path("en_b_2.wav"), "pick up the red cup", "b", "command")
    utts = [
        _utt(
            r1, ["turn left at the floor", "turn left at the door"], "turn left at the door", -0.6
        ),
        _utt(r2, ["pick up the red cup"], "go to the kitchen", -3.0, context=("kitchen",)),
    ]
    return [r1, r2], utts


def test_final_text_by_margin():
    _, (u1, u2) = _data()
    assert final_text(u1, "none", None) == "turn left at the floor"
    assert final_text(u1, "ger", None) == "turn left at the door"
    assert final_text(u1, "ger", 0.0) == "turn left at the floor"  # -0.6 < -0.5
    assert final_text(u1, "ger", 0.2) == "turn left at the door"
    assert final_text(u2, "ger", 0.2) == "pick up the red cup"


def test_copy_and_hallucination_rates():
    _, utts = _data()
    rates = llm_behaviour(utts, "ger")
    assert rates["copy_rate"] == 0.5
    # "go to the kitchen": go and to are in no hypothesis; the kitchen is in the context
    assert rates["hallucination_rate"] == 2 / 9


def test_method_report_and_margin_choice():
    recs, utts = _data()
    report = method_report(recs, utts, "ger", 0.2)
    assert report["wer"] == 0.0 and report["proposal_wer"] > 0.3
    assert report["versus_am_only"]["difference"] < 0
    margin, table = choose_margin(recs, utts, ("ger",))
    assert table[margin]["ger"] == 0.0 and margin >= 0.1
