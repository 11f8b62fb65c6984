"""Open English sentences for training the GER adapter: Debian's ``fortunes`` (quotations,
jokes, proverbs) and WordNet's example sentences (``wordnet-base``), both installed by
``scripts/setup.sh``.

Owns reading those files and keeping sentences a person could say to a robot or near one:
4 to 20 words of letters and ordinary punctuation. It knows nothing about rendering or models.
"""

from __future__ import annotations

import re
from pathlib import Path

from perception.errors import ConfigError

FORTUNES = Path("/usr/share/games/fortunes")
WORDNET = Path("/usr/share/wordnet")
MIN_WORDS, MAX_WORDS = 4, 20
_SPEAKABLE = re.compile(r"^[A-Za-z][A-Za-z ,.'?!;:-]*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _speakable(text: str) -> str | None:
    """``text`` tidied (quotes and extra spaces gone) if it is one speakable sentence."""
    text = re.sub(r"\s+", " ", text.replace('"', "").replace("`", "'")).strip(" -")
    words = text.split()
    if not (MIN_WORDS <= len(words) <= MAX_WORDS) or not _SPEAKABLE.match(text):
        return None
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".?!" else text + "."


def _need(folder: Path, package: str) -> Path:
    if not folder.is_dir():
        raise ConfigError(f"{folder} is missing; install Debian's {package} (scripts/setup.sh)")
    return folder


def fortune_sentences(folder: Path = FORTUNES) -> list[str]:
    """Speakable sentences of every fortune file (entries split at ``%`` lines, then at
    sentence ends), in file order, duplicates removed."""
    out: list[str] = []
    for path in sorted(_need(folder, "fortunes").iterdir()):
        if path.suffix or not path.is_file():  # .dat indexes and .u8 links
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for entry in text.split("\n%\n"):
            body = " ".join(
                line for line in entry.splitlines() if not line.strip().startswith("--")
            )
            out += [s for s in map(_speakable, _SENTENCE_END.split(body)) if s]
    return list(dict.fromkeys(out))


def wordnet_sentences(folder: Path = WORDNET) -> list[str]:
    """Speakable example sentences quoted in WordNet's glosses, duplicates removed."""
    out: list[str] = []
    for part in ("noun", "verb", "adj", "adv"):
        text = (_need(folder, "wordnet-base") / f"data.{part}").read_text(errors="replace")
        out += [s for s in map(_speakable, re.findall(r'"([^"]+)"', text)) if s]
    return list(dict.fromkeys(out))
