"""Node parameters from option dataclasses: field-path names, values checked on the way back."""

from __future__ import annotations

import pytest

from perception.errors import ConfigError
from perception.ros.options import NodeOptions, WavSourceOptions
from perception.ros.params import build, flatten, unflatten
from perception.ros.pipeline import speech_options_class
from perception.speech.api import SpeechOptions


def test_flatten_uses_field_paths_and_defaults_from_the_class():
    flat = flatten(SpeechOptions())
    assert flat["asr.beam_size"] == 5 and flat["vad.threshold"] == 0.5
    assert flat["fusion"] == "none"
    assert unflatten({"a.b": 1, "a.c": 2, "d": 3}) == {"a": {"b": 1, "c": 2}, "d": 3}


def test_build_round_trips_and_checks_values():
    cls = speech_options_class()
    values = {**flatten(cls()), "asr.beam_size": 2}
    assert build(cls, values).asr.beam_size == 2
    with pytest.raises(ConfigError, match="beam_size"):
        build(cls, {**values, "asr.beam_size": 0})
    with pytest.raises(ConfigError, match="chunk_ms"):
        build(WavSourceOptions, {"chunk_ms": 1})


def test_prefix_and_unset_lists_keep_defaults():
    values = {"node.autostart": False, "node.diagnostics_period_s": 2.0, "asr.model": "x"}
    assert build(NodeOptions, values, "node.") == NodeOptions(False, 2.0)
    # an empty list arrives from ROS as an unset parameter (None): the default is kept
    from perception.ros.options import BagPlayerOptions

    assert build(BagPlayerOptions, {"path": "b", "topics": None}).topics == ()


def test_an_undeclared_parameter_is_an_error_naming_the_closest_declared_one():
    from perception.ros.params import check_declared

    declared = list(flatten(SpeechOptions()))
    check_declared(["asr.beam_size", "fusion"], declared)  # all declared: no error
    with pytest.raises(ConfigError) as info:
        check_declared(["asr.beem_size", "zzz"], declared, "speech")
    message = str(info.value)
    assert message.startswith("speech: unknown parameter(s) 'asr.beem_size' (did you mean ")
    assert "'asr.beam_size'?" in message and "'zzz'" in message
