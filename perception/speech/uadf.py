"""Fused decoding: the LLM writes the transcript while the acoustic model votes at every step.

Owns the decoding loops for UADF (weight = sigmoid(H(p_llm)) − 0.5) and static fusion (a fixed
weight), in two forms:

- Direct form (the paper's): when the LLM and Whisper share a vocabulary, p_llm and p_asr are
  distributions over the same token ids given the same token prefix, fused over the whole
  vocabulary.
- Cross-tokenizer form (ours, for Whisper's GPT-2 BPE vs. SmolLM2's vocabulary): the text written
  so far is the shared prefix. At each step the LLM's top-k candidate tokens are turned into text
  pieces and each piece is scored under Whisper as a continuation of that text:
  p_asr(piece | text) = P_whisper(tok(text + piece)) / P_whisper(tok(text)), where tok is
  Whisper's canonical tokenisation of a transcript; the end of the LLM's turn maps to Whisper's
  end-of-text. The fused arg-max over the k candidates is appended. Approximation, stated: a
  piece that ends inside a word is scored as if the word ended there (canonical tokenisation),
  which under-rates it; LLM vocabularies of this kind mostly hold whole words with their space.

Both models' probabilities use their calibrated temperatures (see :mod:`perception.speech.fusion`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from perception.llm.causal_lm import CausalLM
from perception.speech.acoustic import AcousticModel, Features
from perception.speech.fusion import fuse
from perception.speech.ger import (
    LlmOptions,
    LlmStepper,
    PromptCache,
    first_line,
    line_ended,
    prompt_ids,
    stop_ids,
)

WeightFn = Callable[[torch.Tensor], torch.Tensor | float]


@dataclass(frozen=True)
class Temperatures:
    """Calibrated temperatures (1.0 = uncalibrated)."""

    asr: float = 1.0
    llm: float = 1.0


def static_weight(value: float) -> WeightFn:
    return lambda _p_llm: value


def shares_vocabulary(lm: CausalLM, acoustic: AcousticModel, probe: int = 2000) -> bool:
    """True when the LLM's first ``probe`` token ids decode to the same text as Whisper's."""
    whisper_tok = acoustic.tokenizer
    n = min(probe, whisper_tok.eot, len(lm.tokenizer))
    return all(lm.tokenizer.decode([i]) == whisper_tok.decode([i]) for i in range(0, n, 7))


class FusedDecoder:
    """Greedy fused decoding of one utterance, given its features and N-best texts."""

    def __init__(
        self,
        lm: CausalLM,
        acoustic: AcousticModel,
        options: LlmOptions,
        temperatures: Temperatures,
        prompt_cache: PromptCache | None = None,
    ) -> None:
        self.lm, self.acoustic, self.options, self.t = lm, acoustic, options, temperatures
        self.stops = stop_ids(lm)
        self.direct = shares_vocabulary(lm, acoustic)
        self.prompt_cache = prompt_cache or PromptCache(lm, options)

    def decode(self, features: Features, nbest: list[str], weight: WeightFn) -> str:
        stepper = LlmStepper(self.prompt_cache, prompt_ids(self.lm, nbest, self.options))
        tokens: list[int] = []
        text = ""
        for _ in range(self.options.max_new_tokens):
            p_llm = torch.softmax(stepper.logits() / self.t.llm, dim=-1)
            step = self._direct_step if self.direct else self._cross_step
            token = step(features, tokens, text, p_llm, weight(p_llm))
            if token in self.stops:
                break
            tokens.append(token)
            text = self.lm.tokenizer.decode(tokens, skip_special_tokens=True)
            if line_ended(text):
                break
            stepper.push(token)
        return first_line(text)

    def _direct_step(
        self, features: Features, tokens: list[int], text: str, p_llm: torch.Tensor, weight
    ) -> int:
        eot = self.acoustic.tokenizer.eot
        p_asr = self.acoustic.next_logprobs(features, [tokens], self.t.asr)[0].exp()
        n = min(len(p_llm), len(p_asr))
        scores = fuse(p_llm[:n], p_asr[:n], weight)
        token = int(scores.argmax())
        return next(iter(self.stops)) if token == eot and eot not in self.stops else token

    def _cross_step(
        self, features: Features, tokens: list[int], text: str, p_llm: torch.Tensor, weight
    ) -> int:
        top = torch.topk(p_llm, self.options.top_k)
        # Exact pruning: p_asr <= 1, so a candidate with p_llm + weight below the best p_llm
        # can never win; when only the LLM's first choice survives, Whisper need not be asked.
        alive = top.values + float(weight) >= top.values[0]
        candidates = top.indices[alive].tolist()
        if len(candidates) == 1:
            return candidates[0]
        p_asr = self.piece_probs(features, text, tokens, candidates)
        scores = fuse(top.values[alive], p_asr, weight)
        return candidates[int(scores.argmax())]

    def piece_probs(
        self, features: Features, text: str, tokens: list[int], candidates: list[int]
    ) -> torch.Tensor:
        """p_asr of each LLM candidate token as a continuation of ``text`` (see module doc)."""
        am = self.acoustic
        base = am.text_tokens(text)
        rows = [base]
        for c in candidates:
            if c in self.stops:
                rows.append(base + [am.tokenizer.eot])
            else:
                piece = self.lm.tokenizer.decode(tokens + [c], skip_special_tokens=True)
                rows.append(am.text_tokens(piece))
        totals = [sum(lps) for lps in am.sequence_logprobs(features, rows, self.t.asr)]
        return torch.tensor([min(1.0, math.exp(t - totals[0])) for t in totals[1:]])
