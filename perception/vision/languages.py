"""The registry of languages and scripts: fonts, character sets and generated word lists.

This module owns what a language *is* for the vision capability: a code, a script, the Noto fonts
that render it (Debian ``fonts-noto-core`` / ``fonts-noto-cjk``), its characters (Unicode ranges)
and a rule that makes pronounceable-looking words from them. Built-in languages are defined here;
languages a user adds (``perception languages add``) persist in a YAML file in the store home.
It does not know how text is drawn (see :mod:`perception.vision.render`) or detected.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml

from perception.config import check, from_dict, to_dict
from perception.errors import ConfigError

WordRule = Literal["alphabet", "abugida", "hangul", "logographic", "numeric"]
Split = Literal["train", "eval"]

NOTO_TTF = Path("/usr/share/fonts/truetype/noto")
NOTO_OTF = Path("/usr/share/fonts/opentype/noto")
_SPLIT_SALT = {"train": 1_000_003, "eval": 7_000_019}


@dataclass(frozen=True)
class Language:
    """One language as text to render.

    ``chars`` and ``marks`` are range strings (``"a-zA-Z"``): ``chars`` are base letters,
    ``marks`` dependent signs (vowel signs of an abugida) that follow a base letter.
    ``fonts`` are font files; ``path#N`` picks face N of a collection (``.ttc``).
    """

    code: str
    name: str
    script: str
    fonts: tuple[str, ...]
    chars: str
    marks: str = ""
    vowels: str = ""
    rule: WordRule = "alphabet"
    min_len: int = 3
    max_len: int = 8

    def __post_init__(self) -> None:
        check(bool(self.code) and self.code.isascii(), f"code must be ASCII, got {self.code!r}")
        check(len(self.fonts) > 0, f"language {self.code!r}: give at least one font")
        check(
            1 <= self.min_len <= self.max_len,
            f"language {self.code!r}: need 1 <= min_len <= max_len, got "
            f"{self.min_len}, {self.max_len}",
        )
        check(len(expand_ranges(self.chars)) > 0, f"language {self.code!r}: chars is empty")


@lru_cache(maxsize=1024)
def expand_ranges(spec: str) -> tuple[str, ...]:
    """``"a-cx"`` → ``["a", "b", "c", "x"]``; a ``-`` at either end is literal."""
    out: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            lo, hi = ord(spec[i]), ord(spec[i + 2])
            if hi < lo:
                raise ConfigError(f"character range {spec[i : i + 3]!r} runs backwards")
            out.extend(chr(c) for c in range(lo, hi + 1))
            i += 3
        else:
            out.append(spec[i])
            i += 1
    return tuple(c for c in dict.fromkeys(out) if c.isprintable() and not c.isspace())


def _ttf(name: str) -> str:
    return str(NOTO_TTF / name)


def _sans(family: str) -> tuple[str, str]:
    """Regular and bold Noto Sans faces of one script family (e.g. "Armenian")."""
    return _ttf(f"NotoSans{family}-Regular.ttf"), _ttf(f"NotoSans{family}-Bold.ttf")


_CJK = str(NOTO_OTF / "NotoSansCJK-Regular.ttc") + "#0"
_CJK_SERIF = str(NOTO_OTF / "NotoSerifCJK-Regular.ttc") + "#0"
_LATIN_FONTS = (
    _ttf("NotoSans-Regular.ttf"),
    _ttf("NotoSans-Bold.ttf"),
    _ttf("NotoSerif-Regular.ttf"),
)


def _indic(
    code: str, name: str, script: str, consonants: str, vowels: str, marks: str, fonts: str
) -> Language:
    faces = _sans(fonts)
    serif = NOTO_TTF / f"NotoSerif{fonts}-Regular.ttf"
    faces += (str(serif),) if serif.is_file() else ()
    chars = consonants + vowels
    return Language(code, name, script, faces, chars, marks, vowels, "abugida", 2, 5)


def _letters(code: str, name: str, script: str, family: str, chars: str) -> Language:
    """A script whose words are random runs of its block's letters (abjads, syllabaries and
    scripts without a simple syllable rule here); fonts: every Noto Sans face of ``family``."""
    faces = tuple(
        str(NOTO_TTF / f"NotoSans{family}-{w}.ttf")
        for w in ("Regular", "Bold")
        if (NOTO_TTF / f"NotoSans{family}-{w}.ttf").is_file()
    )
    return Language(code, name, script, faces or _sans(family), chars, rule="logographic",
                    min_len=2, max_len=6)  # fmt: skip


# Character sets are the Unicode blocks' letters (Unicode 15, chapter per script); vowels drive
# the consonant-vowel alternation that makes Latin/Cyrillic/Greek words look like words.
BUILTIN: tuple[Language, ...] = (
    Language("en", "English", "latin", _LATIN_FONTS, "a-zA-Z", vowels="aeiouAEIOU"),
    Language("de", "German", "latin", _LATIN_FONTS, "a-zA-ZäöüßÄÖÜ", vowels="aeiouäöü"),
    Language("fr", "French", "latin", _LATIN_FONTS, "a-zA-Zéèêàçùô", vowels="aeiouéèêàùô"),
    Language("es", "Spanish", "latin", _LATIN_FONTS, "a-zA-Zñáéíóú", vowels="aeiouáéíóú"),
    Language("ru", "Russian", "cyrillic", _LATIN_FONTS, "а-яА-Я", vowels="аеиоуыэюя"),
    Language("el", "Greek", "greek", _LATIN_FONTS, "α-ωΑ-Ω", vowels="αεηιουω"),
    Language(
        "ar",
        "Arabic",
        "arabic",
        _sans("Arabic"),
        "ا-يپچگ",
    ),
    Language(
        "he",
        "Hebrew",
        "hebrew",
        _sans("Hebrew"),
        "א-ת",
    ),
    _indic("hi", "Hindi", "devanagari", "क-ह", "अ-औ", "ा-ौं", "Devanagari"),
    _indic("bn", "Bengali", "bengali", "ক-হ", "অ-ঔ", "া-ৌং", "Bengali"),
    _indic("ta", "Tamil", "tamil", "க-ஹ", "அ-ஔ", "ா-ைொ-ௌ", "Tamil"),
    _indic("ml", "Malayalam", "malayalam", "ക-ഹ", "അ-ഔ", "ാ-ൌം", "Malayalam"),
    _indic("th", "Thai", "thai", "ก-ฮ", "", "ะ-ุ่-้", "Thai"),
    _indic("gu", "Gujarati", "gujarati", "ક-હ", "અ-ઔ", "ા-ૌં", "Gujarati"),
    _indic("pa", "Punjabi", "gurmukhi", "ਕ-ਹ", "ਅ-ਔ", "ਾ-ੌਂ", "Gurmukhi"),
    _indic("or", "Odia", "oriya", "କ-ହ", "ଅ-ଔ", "ା-ୌଂ", "Oriya"),
    _indic("kn", "Kannada", "kannada", "ಕ-ಹ", "ಅ-ಔ", "ಾ-ೌಂ", "Kannada"),
    _indic("te", "Telugu", "telugu", "క-హ", "అ-ఔ", "ా-ౌం", "Telugu"),
    _indic("si", "Sinhala", "sinhala", "ක-ෆ", "අ-ඖ", "ා-ෞං", "Sinhala"),
    _indic("km", "Khmer", "khmer", "ក-អ", "", "ា-ៅ", "Khmer"),
    _indic("my", "Burmese", "myanmar", "က-အ", "", "ါ-ေ", "Myanmar"),
    _indic("dv", "Dhivehi", "thaana", "ހ-ޥ", "", "ަ-ް", "Thaana"),
    Language(
        "hy",
        "Armenian",
        "armenian",
        _sans("Armenian"),
        "ա-ֆ",
        vowels="աեէըիոօ",
    ),
    Language(
        "ka",
        "Georgian",
        "georgian",
        _sans("Georgian"),
        "ა-ჰ",
        vowels="აეიოუ",
    ),
    Language(
        "am",
        "Amharic",
        "ethiopic",
        _sans("Ethiopic"),
        "ሀ-ፚ",
        rule="logographic",
        min_len=2,
        max_len=5,
    ),
    Language(
        "chr",
        "Cherokee",
        "cherokee",
        _sans("Cherokee"),
        "Ꭰ-Ᏼ",
        rule="logographic",
    ),
    Language("ko", "Korean", "hangul", (_CJK, _CJK_SERIF), "가-힣", rule="hangul", max_len=4),
    Language(
        "ja", "Japanese (kana)", "kana", (_CJK, _CJK_SERIF), "ぁ-ゖァ-ヺ", rule="logographic"
    ),
    Language(
        "zh",
        "Chinese",
        "han",
        (_CJK, _CJK_SERIF),
        "一-龥",
        rule="logographic",
        min_len=2,
        max_len=5,
    ),
    # ISO 639-2 "zxx", no linguistic content: numbers, prices, dates, sums. Real signs and
    # documents are full of them; with no class of their own, MENTOR named a printed exam's sums
    # Greek and so the whole photo's script.
    Language(
        "zxx",
        "No language (digits, symbols)",
        "common",
        _LATIN_FONTS,
        "0-9",
        rule="numeric",
        min_len=1,
        max_len=6,
    ),  # fmt: skip
)


# Training-only scripts, more variety for MENTOR's meta-training (configs/vision/large.yaml);
# none is a close relative of the held-out Malayalam or Thai (no Tai, Lao, Grantha or Tulu).
EXTRA_SCRIPTS: tuple[Language, ...] = (
    _letters("syr", "Syriac", "syriac", "Syriac", "ܐ-ܬ"),
    _letters("tzm", "Tamazight", "tifinagh", "Tifinagh", "ⴰ-ⵧ"),
    _letters("nqo", "N'Ko", "nko", "NKo", "ߊ-ߪ"),
    _letters("iu", "Inuktitut", "canadian-syllabics", "CanadianAboriginal", "ᐁ-ᐧᐱ-ᑦᑫ-ᒐ"),
    _letters("sat", "Santali", "ol-chiki", "OlChiki", "ᱚ-ᱽ"),
    _letters("jv", "Javanese", "javanese", "Javanese", "ꦄ-ꦲ"),
    _letters("vai", "Vai", "vai", "Vai", "ꔀ-ꕿ"),
    _letters("ii", "Nuosu", "yi", "Yi", "ꀀ-ꅿ"),
    _letters("ff", "Fulah (Adlam)", "adlam", "Adlam", "𞤢-𞥃"),
    _letters("mni", "Meitei", "meetei-mayek", "MeeteiMayek", "ꯀ-ꯢ"),
    _letters("bax", "Bamum", "bamum", "Bamum", "ꚠ-ꛯ"),
    _letters("su", "Sundanese", "sundanese", "Sundanese", "ᮃ-ᮠ"),
    _letters("rhg", "Rohingya", "hanifi-rohingya", "HanifiRohingya", "𐴀-𐴣"),
    Language(
        "bo",
        "Tibetan",
        "tibetan",
        (_ttf("NotoSerifTibetan-Regular.ttf"), _ttf("NotoSerifTibetan-Bold.ttf")),
        "ཀ-ཨ",
        marks="ིེོུ",
        rule="abugida",
        min_len=2,
        max_len=5,
    ),  # fmt: skip
)


def user_registry_path() -> Path:
    """Where added languages persist: ``$PERCEPTION_HOME/vision/languages.yaml``."""
    home = Path(os.environ.get("PERCEPTION_HOME", Path.home() / ".cache" / "perception"))
    return home / "vision" / "languages.yaml"


def load_registry(path: Path | None = None) -> dict[str, Language]:
    """Built-in languages, then the user's (a user language may replace a built-in by code)."""
    registry = {lang.code: lang for lang in BUILTIN + EXTRA_SCRIPTS}
    path = user_registry_path() if path is None else path
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for i, item in enumerate(data.get("languages", [])):
            lang = from_dict(Language, item, f"{path}: languages[{i}]")
            registry[lang.code] = lang
    return registry


def user_language_codes(path: Path | None = None) -> list[str]:
    """Codes of the languages the user added, in the order they were added."""
    path = user_registry_path() if path is None else path
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [str(item.get("code")) for item in data.get("languages", [])]


def add_language(language: Language, path: Path | None = None) -> Path:
    """Persist ``language`` in the user registry (replacing one with the same code)."""
    missing = [f for f in language.fonts if not Path(f.split("#")[0]).is_file()]
    if missing:
        raise ConfigError(
            f"font file(s) {', '.join(missing)} not found; give a path from `fc-list` "
            "(Debian: apt-get install fonts-noto-core fonts-noto-cjk)"
        )
    path = user_registry_path() if path is None else path
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    items = [i for i in (data or {}).get("languages", []) if i.get("code") != language.code]
    items.append(to_dict(language))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump({"languages": items}, allow_unicode=True), encoding="utf-8")
    tmp.replace(path)
    return path


def get_language(code: str, registry: dict[str, Language] | None = None) -> Language:
    """The language with ``code``; the error lists the codes that exist."""
    registry = load_registry() if registry is None else registry
    if code not in registry:
        raise ConfigError(
            f"unknown language {code!r}; known: {', '.join(sorted(registry))} "
            "(add one with `perception languages add`)"
        )
    return registry[code]


def make_word(language: Language, rng: random.Random) -> str:
    """One generated word following the language's rule (not a dictionary word)."""
    chars = expand_ranges(language.chars)
    n = rng.randint(language.min_len, language.max_len)
    if language.rule == "hangul" or language.rule == "logographic":
        return "".join(rng.choice(chars) for _ in range(n))
    if language.rule == "abugida":
        return _abugida_word(language, chars, n, rng)
    if language.rule == "numeric":
        return _number(rng, n)
    vowels = [c for c in expand_ranges(language.vowels) if c in chars and c.lower() == c]
    consonants = [c for c in chars if c not in vowels and c.lower() == c] or chars
    if not vowels:
        return "".join(rng.choice(chars) for _ in range(n))
    word = "".join(rng.choice(vowels if i % 2 else consonants) for i in range(n))
    # signs and labels are often in capitals and carry numbers ("EXIT 3", "PB13"); without them
    # MENTOR took capital Latin for Cherokee, whose syllabary looks like Latin capitals (with a
    # quarter in capitals it still called "SALE" and "PASS" on real photos Cherokee: 40% now)
    style = rng.random()
    if style < 0.4:
        word = word.upper()
    elif style < 0.6:
        word = word.capitalize()
    if rng.random() < 0.15:
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 3)))
        word = word[: max(1, n // 2)].upper() + digits
    return word


def _number(rng: random.Random, n: int) -> str:
    """A number as signs print them: an integer, a price, a date, a time, a sum, a share."""

    def digits(k: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(k))

    forms = [
        lambda: digits(n),
        lambda: f"{digits(rng.randint(1, 3))}.{digits(2)}",
        lambda: f"{digits(4)}-{digits(2)}-{digits(2)}",
        lambda: f"{digits(2)}:{digits(2)}",
        lambda: f"{digits(1)}.{digits(1)}{rng.choice('×+-÷')}{digits(rng.randint(1, 2))}=",
        lambda: f"{digits(rng.randint(1, 2))}%",
        lambda: f"{digits(3)}-{digits(4)}",
        lambda: f"{digits(rng.randint(1, 3))}/{digits(rng.randint(1, 3))}",
    ]
    return rng.choice(forms)()


def _abugida_word(language: Language, chars: list[str], n: int, rng: random.Random) -> str:
    # consonant + optional dependent vowel sign: the minimal well-formed syllable of an abugida
    # (Unicode Standard ch. 12); independent vowels take no sign, so no dotted circles appear.
    marks = expand_ranges(language.marks)
    vowels = set(expand_ranges(language.vowels))
    out = []
    for _ in range(n):
        base = rng.choice(chars)
        sign = rng.choice(marks) if marks and base not in vowels and rng.random() < 0.5 else ""
        out.append(base + sign)
    return "".join(out)


@lru_cache(maxsize=512)
def word_list(language: Language, split: Split, size: int, seed: int = 0) -> tuple[str, ...]:
    """``size`` distinct words for ``split``; the eval list never contains a train word.

    Train and eval draw from different seeds; eval words are also filtered against the train
    list of the same size so that evaluation text is disjoint from training text.
    """
    words = _draw(language, split, size, seed)
    if split == "eval":
        seen = set(_draw(language, "train", max(size, 2000), seed))
        words = [w for w in _draw(language, "eval", 3 * size, seed) if w not in seen][:size]
    return tuple(words)


def _draw(language: Language, split: Split, size: int, seed: int) -> list[str]:
    rng = random.Random(f"{language.code}:{split}:{seed * _SPLIT_SALT[split]}")
    words: dict[str, None] = {}
    for _ in range(20 * size):
        words[make_word(language, rng)] = None
        if len(words) >= size:
            break
    return list(words)
