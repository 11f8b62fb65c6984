"""What the robot expects to hear: words and phrases (its places, objects, people, a game's
vocabulary) that bias recognition when they are said and cost nothing when they are not.

Owns the options (phrases in the config or a file, one phrase a line), the text that Whisper
reads as its previous-text prompt, the line the GER / UADF prompt gains, and the lists the GER
adapter is trained with (right ones, partly wrong ones, empty ones). How a list reaches a running
robot (a ROS parameter, a service) is the nodes' business; the recogniser takes a new list at
any time (:meth:`perception.speech.api.SpeechRecognizer.set_context`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from perception.config import check
from perception.errors import ConfigError

MAX_PHRASES = 64  # Whisper's previous-text prompt holds at most 223 tokens
LLM_PREFIX = "Expected words: "


@dataclass(frozen=True)
class ContextOptions:
    """Phrases the robot expects.

    phrases: the list itself; file: a UTF-8 file with one more phrase a line ("" = none);
    whisper_prompt: Whisper decodes after the phrases as its previous text;
    llm_prompt: the GER / UADF prompt names them.
    """

    phrases: tuple[str, ...] = ()
    file: str = ""
    whisper_prompt: bool = True
    llm_prompt: bool = True

    def __post_init__(self) -> None:
        check(
            len(self.phrases) <= MAX_PHRASES,
            f"context.phrases holds {len(self.phrases)} phrases; at most {MAX_PHRASES}",
        )


def clean(phrases) -> tuple[str, ...]:
    """Phrases stripped, empty ones and repeats dropped, at most :data:`MAX_PHRASES`."""
    out = [re.sub(r"\s+", " ", str(p)).strip() for p in phrases]
    return tuple(dict.fromkeys(p for p in out if p))[:MAX_PHRASES]


def load_phrases(options: ContextOptions) -> tuple[str, ...]:
    """The configured phrases followed by the file's.

    Raises:
        ConfigError: the file is named but cannot be read as UTF-8 text.
    """
    from_file: list[str] = []
    if options.file:
        try:
            from_file = Path(options.file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"speech.context.file {options.file!r} could not be read ({exc}); expected a "
                "UTF-8 text file with one phrase a line"
            ) from None
    return clean([*options.phrases, *from_file])


def whisper_prompt(phrases: tuple[str, ...]) -> str:
    """Whisper's previous text: the phrases as one comma-separated line ("" for none)."""
    return ", ".join(phrases)


def llm_line(phrases: tuple[str, ...]) -> str:
    """The prompt line that names the phrases ("" for none)."""
    return LLM_PREFIX + "; ".join(phrases) if phrases else ""


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z']+", text) if len(w) >= 5]


def training_lists(references: list[str], rng: np.random.Generator) -> list[tuple[str, ...]]:
    """One context list per reference for GER training, a third of each kind: right (2-3 of
    its own longer words), partly wrong (one of its words and two of another sentence's), and
    empty. A word that is not said is never in the target, so the adapter learns that a list
    is a hint, not a transcript."""
    out: list[tuple[str, ...]] = []
    for i, ref in enumerate(references):
        own = _content_words(ref)
        other = _content_words(references[rng.integers(len(references))])
        kind = i % 3
        if kind == 2 or not own:
            out.append(())
            continue
        rng.shuffle(own)
        if kind == 0:
            out.append(clean(own[: int(rng.integers(2, 4))]))
        else:
            rng.shuffle(other)
            out.append(clean(own[:1] + [w for w in other if w not in own][:2]))
    return out
