"""The safety adapter's training set and evaluation split."""

import pytest

from perception.errors import ConfigError
from perception.llm import safety
from perception.speech.dataset import split_sentences


def test_corpus_commands_come_from_the_speech_training_split_only():
    evaluated = {t for rows in split_sentences(seed=0).values() for t, _ in rows}
    commands = safety.corpus_commands(50)
    assert len(commands) == len(set(commands)) == 50
    assert not set(commands) & evaluated
    assert safety.corpus_commands(50) == commands  # fixed draw


def test_options_name_a_held_out_split():
    assert safety.SafetyOptions(eval_split="dev").eval_split == "dev"
    with pytest.raises(ConfigError, match="eval_split"):
        safety.SafetyOptions(eval_split="train")
    with pytest.raises(ConfigError, match="train_commands"):
        safety.SafetyOptions(train_commands=-1)
