"""The conversion table: every project card's ``convert`` is in it, and an unknown one stops the
fetch with the known names (the conversions themselves are tested in test_whisper_convert and by
fetching the real cards)."""

import dataclasses

import pytest

from perception.errors import ConfigError
from perception.models.cards import read_cards, repo_cards_dir
from perception.models.convert import CONVERTERS, convert


def test_every_project_cards_conversion_is_in_the_table():
    conversions = {c.convert for c in read_cards(repo_cards_dir()).values() if c.convert}
    assert conversions and conversions <= set(CONVERTERS)


def test_unknown_conversion_names_the_known_ones(tmp_path):
    card = next(c for c in read_cards(repo_cards_dir()).values() if c.convert)
    with pytest.raises(ConfigError, match="ct2-whisper"):
        convert(tmp_path, dataclasses.replace(card, convert="onnx-tflite"))
