"""Expected phrases: options, file, the prompt line and the training lists."""

import numpy as np
import pytest

from perception.errors import ConfigError
from perception.speech.context import (
    ContextOptions,
    clean,
    llm_line,
    load_phrases,
    training_lists,
    whisper_prompt,
)
from perception.speech.ger import LlmOptions, build_messages


def test_phrases_from_options_then_file(tmp_path):
    f = tmp_path / "places.txt"
    f.write_text("loading dock\n\n  charging   station \nkitchen\n", encoding="utf-8")
    phrases = load_phrases(ContextOptions(phrases=("kitchen", "Anna"), file=str(f)))
    assert phrases == ("kitchen", "Anna", "loading dock", "charging station")
    assert whisper_prompt(phrases) == "kitchen, Anna, loading dock, charging station"
    assert llm_line(()) == "" and whisper_prompt(()) == ""


def test_unreadable_file_is_a_config_error(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_phrases(ContextOptions(file=str(bad)))
    with pytest.raises(ConfigError, match="could not be read"):
        load_phrases(ContextOptions(file=str(tmp_path / "missing.txt")))


def test_clean_caps_the_list():
    assert len(clean([f"p{i}" for i in range(100)])) == 64
    with pytest.raises(ConfigError):
        ContextOptions(phrases=tuple(f"p{i}" for i in range(65)))


def test_prompt_names_the_phrases_only_when_there_are_some():
    with_list = build_messages(["go to the dock"], LlmOptions(), ("loading dock",))
    without = build_messages(["go to the dock"], LlmOptions())
    assert with_list[-1]["content"].startswith("Expected words: loading dock\nCandidates:")
    assert without[-1]["content"].startswith("Candidates:")


def test_training_lists_are_right_partly_wrong_and_empty():
    refs = [
        "Please carry the heavy package upstairs.",
        "The kitchen window overlooks the garden.",
        "Bring the yellow blanket tomorrow morning.",
    ] * 4
    lists = training_lists(refs, np.random.default_rng(0))
    assert len(lists) == len(refs)
    for i, (ref, ctx) in enumerate(zip(refs, lists, strict=True)):
        said = [p for p in ctx if p in ref]
        if i % 3 == 0:
            assert 2 <= len(ctx) <= 3 and said == list(ctx)
        elif i % 3 == 1:
            assert len(said) == 1 and 1 <= len(ctx) <= 3
        else:
            assert ctx == ()
