"""Word error rate: text normalisation and word-level edit distance.

Corpus WER is total edits over total reference words (not a mean of per-utterance rates).
The default normalisation is light and language-neutral: Unicode case folding, punctuation
removed, whitespace collapsed. For English, :func:`normalizer_for` returns openai-whisper's
English normaliser (spelled-out numbers, contractions, British/American spellings), the usual
choice for reporting Whisper WER, and its basic normaliser for other languages. Scripts without
spaces between words are scored per character by passing ``unit="char"``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal


def normalize(text: str) -> str:
    """Case-fold, drop punctuation and symbols (Unicode categories P*, S*), collapse spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = [" " if unicodedata.category(c)[0] in "PSZ" else c for c in text]
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def normalizer_for(language: str) -> Callable[[str], str]:
    """openai-whisper's English normaliser for ``"en"``, its basic one (markup and symbols
    dropped, diacritics kept) for any other language, each followed by :func:`normalize`."""
    from whisper.normalizers import BasicTextNormalizer, EnglishTextNormalizer

    whisper = EnglishTextNormalizer() if language == "en" else BasicTextNormalizer()
    return lambda text: normalize(whisper(text))


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance between two token lists (substitution = insertion = deletion = 1)."""
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class ErrorCount:
    """Edits and reference length for one or more utterances; ``rate`` is edits / words."""

    edits: int
    words: int

    @property
    def rate(self) -> float:
        return self.edits / self.words if self.words else float(self.edits > 0)


def count_errors(
    ref: str,
    hyp: str,
    unit: Literal["word", "char"] = "word",
    normalizer: Callable[[str], str] = normalize,
) -> ErrorCount:
    """Edits between normalised reference and hypothesis, in words or characters."""
    r, h = normalizer(ref), normalizer(hyp)
    rt, ht = (
        (r.split(), h.split())
        if unit == "word"
        else (list(r.replace(" ", "")), list(h.replace(" ", "")))
    )
    return ErrorCount(edit_distance(rt, ht), len(rt))


def corpus_wer(
    pairs: Iterable[tuple[str, str]],
    unit: Literal["word", "char"] = "word",
    normalizer: Callable[[str], str] = normalize,
) -> float:
    """Total edits over total reference units for (reference, hypothesis) pairs."""
    counts = [count_errors(r, h, unit, normalizer) for r, h in pairs]
    return ErrorCount(sum(c.edits for c in counts), sum(c.words for c in counts)).rate
