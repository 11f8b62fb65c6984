"""The guards on an LLM's transcript, with scripted models (no weights)."""

import math

import pytest

from perception.speech.ger import FEW_SHOT, Corrector, LlmOptions, example_lines
from perception.speech.guards import (
    GuardOptions,
    RepeatGuard,
    acoustic_check,
    echoes_prompt,
    length_budget,
)
from tests.speech.fakes import ANSWER, ScriptedAcoustic, scripted_lm


def test_repetition_only_as_often_as_some_hypothesis_repeats_it():
    guard = RepeatGuard(["go to room 2 2", "go to room 2"], n=2)
    assert guard.allows("go to room 2 2")
    assert not guard.allows("go to room 2 2 2")  # "2 2" twice: no hypothesis has it twice
    assert guard.allows("please go to the room 2")  # new bigrams may occur once
    assert not guard.allows("go to go to")
    assert RepeatGuard(["a"], n=0).allows("b b b b")


def test_length_budget_follows_the_longest_hypothesis():
    lm = scripted_lm({}, ["go", "to", "the", "kitchen"])
    nbest = ["go to the kitchen", "go to"]
    assert length_budget(lm.tokenizer, nbest, GuardOptions(), cap=48) == math.ceil(1.25 * 4) + 4
    assert length_budget(lm.tokenizer, nbest, GuardOptions(), cap=6) == 6
    assert length_budget(lm.tokenizer, nbest, GuardOptions(enabled=False), cap=48) == 48


def test_prompt_examples_are_echoes_unless_the_audio_said_them():
    examples = example_lines(LlmOptions(few_shot=True))
    answer = FEW_SHOT[1][1]
    assert echoes_prompt(answer, ["go left"], examples)
    assert echoes_prompt(f"Okay. {answer}", ["go left"], examples)
    assert not echoes_prompt(answer, [answer.lower().rstrip(".")], examples)
    assert not echoes_prompt("go left", ["go left"], examples)
    assert example_lines(LlmOptions(few_shot=False)) == []


def test_acoustic_check_keeps_only_text_the_audio_supports():
    am = ScriptedAcoustic({"go left": -0.4, "go right": -2.0, "go lift": -0.6})
    assert acoustic_check(am, None, "go left", "Go left.", 0.0).accepted  # same words
    assert not acoustic_check(am, None, "go left", "go right", 0.5).accepted
    assert acoustic_check(am, None, "go left", "go lift", 0.2).accepted  # -0.3 >= -0.2 - 0.2
    assert not acoustic_check(am, None, "go left", "go lift", 0.05).accepted
    assert not acoustic_check(am, None, "go left", "", 1.0).accepted


def _looping_lm():
    # after the prompt the LLM says "2", and after "2" it says "2" again: a repetition loop
    return scripted_lm({ANSWER: " 2", " 2": " 2"}, ["go", "room"])


def test_a_looping_llm_stops_at_the_repetition_rule():
    lm = _looping_lm()
    corrector = Corrector(lm, LlmOptions(max_new_tokens=30, few_shot=False))
    nbest = ["2 2 go", "2 go"]
    assert corrector.correct(nbest, GuardOptions()).split() == ["2", "2"]
    unguarded = corrector.correct(nbest, GuardOptions(enabled=False))
    assert unguarded.split() == ["2"] * 30


def test_drafts_check_many_tokens_per_forward_pass_and_change_nothing():
    lm = scripted_lm({ANSWER: " go", " go": " to", " to": " room", " room": " 7"}, ["x"])
    corrector = Corrector(lm, LlmOptions(max_new_tokens=8, few_shot=False))
    lm.model.calls = 0
    text = corrector.correct(["go to room 5"], GuardOptions(enabled=False))
    assert text == " go to room 7".strip()
    # prompt (2 calls: instructions, then the rest), " go" from the prompt's last row, the
    # draft " to room 5" checked with " go" in one pass (takes " to room", then " 7"), then
    # one pass after " 7" (which ends the answer)
    assert lm.model.calls == 4


@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_recogniser_never_returns_a_prompt_example(margin, monkeypatch):
    from perception.speech.api import Decoded, SpeechOptions, SpeechRecognizer

    rec = SpeechRecognizer.__new__(SpeechRecognizer)  # no weights: only the guard path runs
    rec.options = SpeechOptions(fusion="ger", llm=LlmOptions(few_shot=True))
    rec.acoustic = ScriptedAcoustic({"go left": -0.4, "please wait by the lift.": -0.3})
    rec.calibrated = type("C", (), {"acceptance_margin": margin})()
    decoded = Decoded(None, (), 0.0, {})
    example = FEW_SHOT[1][1]  # "Please wait by the lift."
    fused = rec._guard(decoded, ["go left"], example)
    assert fused.text == "go left" and "prompt example" in fused.guard
