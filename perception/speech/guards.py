"""Guards that keep an LLM-written transcript tied to what the acoustic model heard.

A small instruct LLM asked to correct an N-best list can copy its prompt's examples, loop on a
token, drop a phrase or "correct" a right word. These guards bound what it may write while it
writes, and test what it wrote before anyone sees it:

- a length budget in LLM tokens, from the longest hypothesis (:func:`length_budget`);
- no word n-gram may occur more often in the output than in some hypothesis
  (:class:`RepeatGuard`), so "2 2 2 2 ..." cannot grow from hypotheses that say "2 2";
- the prompt's own examples are never a transcript (:func:`echoes_prompt`);
- acceptance: Whisper rescores the LLM's text the way its beam search ranks candidates; it is
  kept only if that score is within a margin of the best hypothesis' (:func:`acoustic_check`).
  At margin 0 the LLM can only pick a text Whisper itself prefers to its own best hypothesis.

It knows nothing about how the text was produced (GER, static or UADF fusion).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from perception.config import check
from perception.eval.wer import normalize
from perception.speech.acoustic import AcousticModel, Features

DEFAULT_ACCEPTANCE_MARGIN = 0.1  # nats per token, used when no calibration file gives one


@dataclass(frozen=True)
class GuardOptions:
    """What bounds and checks the LLM's text.

    enabled: all guards on (off only to measure what they change).
    length_factor, length_margin_tokens: the answer may have at most
        ceil(factor × longest hypothesis) + margin LLM tokens.
    repeat_ngram: word n-gram length of the repetition rule (0 = off).
    acceptance_margin: nats per token the LLM's text may score below the best hypothesis
        under Whisper and still be kept (negative: it must score that much above it); None =
        the calibration file's value (else 0.1).
    """

    enabled: bool = True
    length_factor: float = 1.25
    length_margin_tokens: int = 4
    repeat_ngram: int = 2
    acceptance_margin: float | None = None

    def __post_init__(self) -> None:
        check(self.length_factor >= 1.0, f"length_factor must be >= 1, got {self.length_factor}")
        check(self.length_margin_tokens >= 0, "length_margin_tokens must be >= 0")
        check(self.repeat_ngram >= 0, f"repeat_ngram must be >= 0, got {self.repeat_ngram}")
        check(
            self.acceptance_margin is None or abs(self.acceptance_margin) <= 10,
            f"acceptance_margin must be in [-10, 10] nats per token, got {self.acceptance_margin}",
        )


def length_budget(tokenizer, nbest: list[str], options: GuardOptions, cap: int) -> int:
    """Most LLM tokens the answer may take: from the longest hypothesis, never above ``cap``."""
    if not options.enabled:
        return cap
    longest = max((len(tokenizer.encode(h, add_special_tokens=False)) for h in nbest), default=0)
    return min(cap, math.ceil(options.length_factor * longest) + options.length_margin_tokens)


def _words(text: str) -> list[str]:
    return normalize(text).split()


def _ngrams(words: list[str], n: int) -> Counter:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


class RepeatGuard:
    """Allows a text only while none of its word n-grams occurs more often than in the
    hypothesis that repeats it most (an n-gram no hypothesis holds may occur once)."""

    def __init__(self, nbest: list[str], n: int) -> None:
        self.n = n
        self.allowed: Counter = Counter()
        for hyp in nbest:
            for gram, count in _ngrams(_words(hyp), n).items():
                self.allowed[gram] = max(self.allowed[gram], count)

    def allows(self, text: str) -> bool:
        if self.n <= 0:
            return True
        counts = _ngrams(_words(text), self.n)
        return all(c <= max(self.allowed[g], 1) for g, c in counts.items())


def echoes_prompt(text: str, nbest: list[str], examples: list[str]) -> bool:
    """True when ``text`` repeats one of the prompt's example lines that no hypothesis says."""
    said = {normalize(h) for h in nbest}
    t = normalize(text)
    return (
        any(normalize(e) and normalize(e) in t and normalize(e) not in said for e in examples)
        and t not in said
    )


@dataclass(frozen=True)
class Verdict:
    """Whether the LLM's text stands, and why."""

    accepted: bool
    reason: str
    llm_score: float = float("nan")  # Whisper's mean log-probability per token of the text
    best_score: float = float("nan")  # the same for the best hypothesis


def acoustic_check(
    am: AcousticModel, features: Features, best: str, text: str, margin: float
) -> Verdict:
    """Keep ``text`` when Whisper scores it within ``margin`` nats per token of ``best``."""
    if normalize(text) == normalize(best):
        return Verdict(True, "same words as the best hypothesis")
    if not text.strip():
        return Verdict(False, "empty answer")
    llm_score, best_score = am.text_score(features, [text, best])
    ok = llm_score >= best_score - margin
    reason = (
        f"Whisper scores it {llm_score:.3f} vs best hypothesis {best_score:.3f} "
        f"(margin {margin:g}); {'kept' if ok else 'rejected'}"
    )
    return Verdict(ok, reason, llm_score, best_score)
