"""The reading as evidence for a region's language.

The PP-OCRv4 recogniser reads Chinese characters, Latin letters, digits and symbols. When it
reads a region with confidence, the Unicode scripts of what it read say which of those scripts the
region is in: a line read as "BOARDING" at 0.98 is Latin, whatever MENTOR's glyph-shape score says
about Cherokee capitals. :class:`ReadingFusion` adds that evidence to MENTOR's log-probabilities:

    log p'(l) = log p(l) + weight * c * (share_s(l) - floor)
    c = max(0, conf - min_conf) / (1 - min_conf)

for every language ``l`` whose script ``s(l)`` the reader reads (``share_s`` is the share of the
read characters in that script, ``conf`` the reading's mean CTC confidence); languages of other
scripts and the "unknown" outcome get nothing, so a language with no reader is still named from
its printed templates alone and a new language still enters with no training. The three numbers
are calibrated on rendered scenes with photo backgrounds (``bench/vision_reading_fusion.py``) and
stored in ``weights/reading_fusion.json``. This module knows no model.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from perception.config import check

READ_SCRIPTS = ("latin", "han", "common")  # the reader's scripts (its card's ``scripts``)
FUSION_FILE = Path(__file__).resolve().parent / "weights" / "reading_fusion.json"


def char_script(ch: str) -> str:
    """ "latin", "han", "common" (digits, punctuation, symbols) or "other" for one character;
    full-width forms count as their ordinary ones."""
    ch = unicodedata.normalize("NFKC", ch)[:1] or " "
    if ch.isascii():
        return "latin" if ch.isalpha() else "common"
    name = unicodedata.name(ch, "")
    if name.startswith("LATIN"):
        return "latin"
    if name.startswith("CJK UNIFIED"):
        return "han"
    return "other" if ch.isalpha() else "common"


def script_shares(text: str) -> dict[str, float]:
    """Share of ``text``'s non-space characters in each script of :func:`char_script`."""
    chars = [c for c in text if not c.isspace()]
    shares = dict.fromkeys((*READ_SCRIPTS, "other"), 0.0)
    for c in chars:
        shares[char_script(c)] += 1 / len(chars)
    return shares


@dataclass(frozen=True)
class ReadingFusion:
    """weight: strength of the reading's evidence (0 = MENTOR alone); floor: script share below
    which the reading counts against a language of that script; min_conf: reading confidence
    below which the reading says nothing."""

    weight: float = 0.0
    floor: float = 0.5
    min_conf: float = 0.5

    def __post_init__(self) -> None:
        check(self.weight >= 0, f"reading fusion weight must be >= 0, got {self.weight}")
        check(0 <= self.floor <= 1, f"reading fusion floor must be in [0, 1], got {self.floor}")
        check(0 <= self.min_conf < 1, f"min_conf must be in [0, 1), got {self.min_conf}")

    def evidence(self, readings: list[tuple[str, float]], scripts: list[str]) -> np.ndarray:
        """(N, L) additive log-evidence of N readings (text, confidence) for L languages whose
        scripts are ``scripts``."""
        out = np.zeros((len(readings), len(scripts)), np.float32)
        columns = [j for j, s in enumerate(scripts) if s in READ_SCRIPTS]
        for i, (text, conf) in enumerate(readings):
            c = max(0.0, conf - self.min_conf) / (1 - self.min_conf) if text else 0.0
            shares = script_shares(text) if c > 0 else {}
            for j in columns:
                out[i, j] = self.weight * c * (shares.get(scripts[j], 0.0) - self.floor)
        return out

    def fuse(
        self, prob: np.ndarray, readings: list[tuple[str, float]], scripts: list[str]
    ) -> np.ndarray:
        """MENTOR's (N, L [+ 1 unknown]) probabilities with the readings' evidence,
        renormalised."""
        if self.weight == 0 or not readings:
            return prob
        logits = np.log(np.clip(prob, 1e-9, None))
        logits[:, : len(scripts)] += self.evidence(readings, scripts)
        logits -= logits.max(1, keepdims=True)
        fused = np.exp(logits)
        return fused / fused.sum(1, keepdims=True)


def load_fusion(path: Path = FUSION_FILE) -> ReadingFusion:
    """The calibrated fusion; MENTOR alone (weight 0) when no calibration file exists."""
    if not path.is_file():
        return ReadingFusion()
    doc = json.loads(path.read_text(encoding="utf-8"))
    return ReadingFusion(**{k: doc[k] for k in asdict(ReadingFusion())})
