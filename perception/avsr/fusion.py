"""AV-UADF: Whisper writes the transcript token by token while the lips vote, weighted by how
unsure the ears are (UADF's rule with the acoustic model as the writing stream).

At each step Whisper's calibrated next-token distribution p_a is fused with the visual stream's
probability of each of Whisper's top-k candidates:

    score(c) = p_a(c) + w · p_v(c | text),

with w = sigmoid(H(p_a)) − 0.5 (``av-uadf``: the noisier the audio, the flatter p_a, the more the
lips count), a fixed w (``static``), or w = 0 (``audio``: Whisper's greedy decoding). p_v is the
visual model's word posteriors read as a CTC over words (the model's no-word class is the
blank): p_v(c | text) = P_v(text + piece(c)) / P_v(text), where P_v(text) is the probability that
the lip sequence starts with the text's words, its last, unfinished word summed over the
vocabulary words it begins (a word ended by a space or punctuation must be a vocabulary word).
End-of-text gets P_v of the complete word sequence. The ratio is clamped to 1. A piece with
no letter or digit (punctuation, space) gets p_v = 0: the lips cannot confirm it. The visual
vocabulary is the command language; a text with a word outside it gets p_v = 0 for every
candidate, and then the audio decides alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import torch

from perception.speech.acoustic import AcousticModel, Features
from perception.speech.fusion import uadf_weight

WeightFn = Callable[[torch.Tensor], float]
NUMBERS = {
    "1": "one",
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
    "10": "ten",
}


def _logsumexp(x: np.ndarray) -> float:
    m = float(np.max(x)) if len(x) else -math.inf
    return m if m == -math.inf else m + math.log(float(np.exp(x - m).sum()))


class VisualPrefixScorer:
    """Prefix and full-sequence probabilities of word sequences under the visual word
    posteriors of one clip, read as a CTC whose blank is the no-word class."""

    def __init__(
        self, word_logits: np.ndarray, vocab: list[str], temperature: float = 1.0
    ) -> None:
        z = torch.from_numpy(word_logits.astype(np.float64)) / temperature
        self.logp = torch.log_softmax(z, -1).numpy()  # (T, V + 1)
        self.index = {w: i + 1 for i, w in enumerate(vocab)}
        self.vocab = vocab
        blank = np.cumsum(self.logp[:, 0])
        self._alpha: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, float]] = {
            (): (blank, np.full(len(blank), -math.inf), 0.0)
        }

    def _extend(self, seq: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, float]:
        """(log P(first t+1 steps → seq, ending in blank), ... ending in seq's last label,
        log P(the steps start with seq))."""
        if seq in self._alpha:
            return self._alpha[seq]
        parent = self._extend(seq[:-1])
        k, (pb, pnb, _) = seq[-1], parent
        same = len(seq) > 1 and seq[-2] == k
        into = pb if same else np.logaddexp(pb, pnb)  # paths that may emit k anew after t
        n = self.logp.shape[0]
        b, nb = np.full(n, -math.inf), np.full(n, -math.inf)
        starts = np.full(n, -math.inf)
        for t in range(n):
            before = (0.0 if len(seq) == 1 else -math.inf) if t == 0 else into[t - 1]
            starts[t] = before + self.logp[t, k]
            nb[t] = np.logaddexp(nb[t - 1] if t else -math.inf, before) + self.logp[t, k]
            b[t] = np.logaddexp(b[t - 1], nb[t - 1]) + self.logp[t, 0] if t else -math.inf
        self._alpha[seq] = (b, nb, _logsumexp(starts))
        return self._alpha[seq]

    def prefix(self, words: list[str]) -> float:
        """log P(the clip's words start with ``words``); -inf for a word outside the vocabulary."""
        if any(w not in self.index for w in words):
            return -math.inf
        return self._extend(tuple(self.index[w] for w in words))[2] if words else 0.0

    def complete(self, words: list[str]) -> float:
        """log P(the clip's words are exactly ``words``)."""
        if any(w not in self.index for w in words):
            return -math.inf
        b, nb, _ = self._extend(tuple(self.index[w] for w in words))
        return float(np.logaddexp(b[-1], nb[-1]))

    def text(self, text: str, ended: bool = False) -> float:
        """log P_v of a transcript written so far (``ended``: nothing more follows)."""
        done, partial = split_text(text)
        if ended:
            return self.complete(done + ([partial] if partial else []))
        if not partial:
            return self.prefix(done)
        options = [self.prefix(done + [w]) for w in self.vocab if w.startswith(partial)]
        return _logsumexp(np.array(options)) if options else -math.inf


def split_text(text: str) -> tuple[list[str], str]:
    """(finished words, the unfinished last word or "") of a transcript, lower-cased, digits
    spelled out; a word is finished by a space or punctuation after it."""
    words = [NUMBERS.get(w, w) for w in re.findall(r"[a-z0-9]+", text.lower())]
    if words and re.search(r"[a-z0-9]$", text.lower()):
        return words[:-1], words[-1]
    return words, ""


def av_uadf_weight(p_audio: torch.Tensor) -> float:
    return float(uadf_weight(p_audio))


def decode(
    am: AcousticModel,
    features: Features,
    visual: VisualPrefixScorer | None,
    weight: WeightFn,
    t_audio: float = 1.0,
    top_k: int = 10,
    max_tokens: int = 48,
    proposals: int = 5,
) -> str:
    """Greedy fused decoding of one utterance (see the module doc); ``visual`` None or a zero
    weight is Whisper's own greedy decoding. Candidates: Whisper's ``top_k`` tokens and the
    next token of the lips' ``proposals`` likeliest word continuations (scored by both
    streams like the others: p_a is Whisper's full distribution)."""
    scorer = am.scorer(features, t_audio)
    suppressed = am.suppressed()
    eot = am.tokenizer.eot
    tokens: list[int] = []
    for _ in range(max_tokens):
        scorer.advance(tokens)
        logits = scorer.next_logits() / t_audio
        logits[suppressed] = -math.inf
        p_a = torch.softmax(logits, -1)
        w = weight(p_a) if visual is not None else 0.0
        choice = int(p_a.argmax())
        if w > 0 and visual is not None:
            text = am.tokenizer.decode(tokens)
            base = visual.text(text)
            cands = torch.topk(p_a, top_k).indices.tolist()
            if base > -math.inf:
                cands += [
                    c for c in _proposed(am, visual, text, tokens, proposals) if c not in cands
                ]
            best = -math.inf
            for c in sorted(cands, key=lambda c: -float(p_a[c])):
                p = float(p_a[c])
                if p + w <= best:
                    break  # p_v <= 1: no later candidate can win
                piece = "" if c == eot else am.tokenizer.decode([c])
                if c != eot and not re.search(r"[A-Za-z0-9]", piece):
                    p_v = 0.0  # punctuation or space only: nothing the lips could confirm
                else:
                    lp = visual.text(text + piece, ended=c == eot)
                    p_v = 0.0 if base == -math.inf else min(1.0, math.exp(lp - base))
                if p + w * p_v > best:
                    best, choice = p + w * p_v, c
        if choice == eot:
            break
        tokens.append(choice)
    return am.tokenizer.decode(tokens).strip()


def _proposed(
    am: AcousticModel, visual: VisualPrefixScorer, text: str, tokens: list[int], n: int
) -> list[int]:
    """Whisper's next token for each of the lips' ``n`` likeliest continuations of ``text``
    (the unfinished word completed, or the next word; capitalised at the start)."""
    done, partial = split_text(text)
    words = [w for w in visual.vocab if w.startswith(partial)]
    ranked = sorted(words, key=lambda w: -visual.prefix(done + [w]))[:n]
    out = []
    for w in ranked:
        rest = w[len(partial) :] if partial else (" " if text else "") + (w if text else w.title())
        full = am.text_tokens(text + rest)
        if len(full) > len(tokens) and full[: len(tokens)] == tokens:
            out.append(full[len(tokens)])
    return out
