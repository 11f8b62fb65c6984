from pathlib import Path

import numpy as np
import pytest

from perception.errors import ConfigError
from perception.vision.languages import (
    BUILTIN,
    EXTRA_SCRIPTS,
    Language,
    add_language,
    expand_ranges,
    load_registry,
    user_language_codes,
    word_list,
)
from perception.vision.render import language_templates, text_mask


def test_expand_ranges_and_literal_dash():
    assert expand_ranges("a-cx") == ("a", "b", "c", "x")
    assert expand_ranges("-a") == ("-", "a")
    with pytest.raises(ConfigError, match="backwards"):
        expand_ranges("c-a")


def test_registry_has_twelve_scripts_and_fonts_exist():
    scripts = {lang.script for lang in BUILTIN}
    assert len(scripts) >= 12
    assert {"latin", "cyrillic", "greek", "arabic", "hebrew", "devanagari", "thai"} <= scripts
    for lang in BUILTIN + EXTRA_SCRIPTS:
        for font in lang.fonts:
            assert Path(font.split("#")[0]).is_file(), font


def test_word_lists_deterministic_and_eval_disjoint_from_train():
    lang = load_registry()["en"]
    train = word_list(lang, "train", 300)
    assert train == word_list(lang, "train", 300)
    evaluation = word_list(lang, "eval", 300)
    assert len(evaluation) == 300 and not set(evaluation) & set(word_list(lang, "train", 2000))


def test_user_registry_round_trip(tmp_path):
    path = tmp_path / "languages.yaml"
    font = BUILTIN[0].fonts[0]
    lang = Language("xx", "Test", "latin", (font,), "a-f", rule="alphabet", min_len=2, max_len=3)
    add_language(lang, path)
    add_language(lang, path)  # re-adding replaces, never duplicates
    assert user_language_codes(path) == ["xx"]
    assert load_registry(path)["xx"] == lang


def test_add_language_with_missing_font_says_what_to_do(tmp_path):
    lang = Language("yy", "Test", "latin", ("/no/such/font.ttf",), "a-f")
    with pytest.raises(ConfigError, match="fc-list"):
        add_language(lang, tmp_path / "l.yaml")


@pytest.mark.parametrize("lang", BUILTIN + EXTRA_SCRIPTS, ids=lambda lang: lang.code)
def test_every_language_renders_ink(lang):
    word = word_list(lang, "train", 5)[0]
    assert text_mask(word, lang.fonts[0], 32).max() == 255
    templates = language_templates(lang, 2)
    assert len(templates) == 2
    for t in templates:  # black text on white, 48 px high, as the recogniser reads lines
        assert t.shape[0] == 48 and t.shape[2] == 3 and t.dtype == np.uint8
        assert 0.02 < (t < 128).mean() < 0.9 and t.max() == 255
