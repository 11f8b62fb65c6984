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
  Whisper's canonical tokenisation of a transcript. The end of the LLM's turn, and a piece that
  starts a new line, map to Whisper's end-of-text; a piece that adds no visible text gets
  p_asr = 0; a ratio above 1 (re-tokenising changed the text's own last tokens) is clamped to 1.
  The fused arg-max over the k candidates is appended. Approximation, stated: a piece that ends
  inside a word is scored as if the word ended there (canonical tokenisation), which under-rates
  it; LLM vocabularies of this kind mostly hold whole words with their space.

Whisper's key/value cache holds the text so far (:class:`~perception.speech.acoustic.
PrefixScorer`), so a step costs a decoder pass over a candidate's last tokens, not over the whole
text; the LLM checks drafts taken from the N-best in one pass (:func:`~perception.speech.ger.
greedy`). Both models' probabilities use their calibrated temperatures (see
:mod:`perception.speech.fusion`); the guards' length budget and repetition rule bound every step
(:mod:`perception.speech.guards`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from perception.llm.causal_lm import CausalLM
from perception.llm.chat import stop_ids
from perception.speech.acoustic import AcousticModel, Features, PrefixScorer
from perception.speech.fusion import fuse
from perception.speech.ger import (
    LlmOptions,
    LlmStepper,
    PromptCache,
    first_allowed,
    greedy,
    prompt_ids,
)
from perception.speech.guards import GuardOptions, RepeatGuard, length_budget

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
    """Greedy fused decoding of one utterance, given its features and N-best texts, within the
    guards' length budget and repetition rule (:mod:`perception.speech.guards`)."""

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

    def decode(
        self,
        features: Features,
        nbest: list[str],
        weight: WeightFn,
        guards: GuardOptions | None = None,
        context: tuple[str, ...] = (),
    ) -> str:
        guards = guards or GuardOptions()
        prompt = prompt_ids(self.lm, nbest, self.options, context)
        stepper = LlmStepper(self.prompt_cache, prompt)
        budget = length_budget(self.lm.tokenizer, nbest, guards, self.options.max_new_tokens)
        repeat = RepeatGuard(nbest, guards.repeat_ngram if guards.enabled else 0)
        step = self._direct_step if self.direct else self._cross_step
        scorer = self.acoustic.scorer(features, self.t.asr)

        def choose(tokens: list[int], text: str, logits: torch.Tensor) -> int | None:
            p_llm = torch.softmax(logits / self.t.llm, dim=-1)
            return step(scorer, tokens, text, p_llm, weight(p_llm), repeat)

        return greedy(self.lm, stepper, nbest, budget, choose)

    def _direct_step(
        self, scorer: PrefixScorer, tokens, text, p_llm: torch.Tensor, weight, repeat
    ) -> int | None:
        am = self.acoustic
        scorer.advance(tokens)
        logits = scorer.next_logits() / self.t.asr
        logits[am.suppressed()] = -math.inf
        p_asr = torch.softmax(logits, dim=-1).to(p_llm.device)
        n = min(len(p_llm), len(p_asr))
        ranked = torch.topk(fuse(p_llm[:n], p_asr[:n], weight), self.options.top_k)
        eot = am.tokenizer.eot
        ranked = [next(iter(self.stops)) if t == eot else t for t in ranked.indices.tolist()]
        return first_allowed(self.lm, tokens, ranked, self.stops, repeat)

    def _cross_step(
        self, scorer: PrefixScorer, tokens, text, p_llm: torch.Tensor, weight, repeat
    ) -> int | None:
        top = torch.topk(p_llm, self.options.top_k)
        order = top.indices.tolist()
        allowed = [
            t
            for t in order
            if t in self.stops or first_allowed(self.lm, tokens, [t], set(), repeat)
        ]
        if not allowed:
            return None
        p_top = dict(zip(order, top.values.tolist(), strict=True))
        # Exact pruning: p_asr <= 1, so a candidate whose p_llm + weight is below the best
        # allowed p_llm can never win; when only one survives, Whisper need not be asked.
        w = float(weight)
        alive = [t for t in allowed if p_top[t] + w >= p_top[allowed[0]]]
        if len(alive) > 1:
            p_asr = self.piece_probs(scorer, text, tokens, alive).to(p_llm.device)
            p = torch.tensor([p_top[t] for t in alive], device=p_llm.device)
            alive = [alive[int(fuse(p, p_asr, weight).argmax())]]
        return None if alive[0] in self.stops else alive[0]

    def piece_probs(
        self, scorer: PrefixScorer, text: str, tokens: list[int], candidates: list[int]
    ) -> torch.Tensor:
        """p_asr of each LLM candidate token as a continuation of ``text`` (see module doc).

        A candidate that ends the turn, or whose piece starts a new line, is Whisper's
        end-of-text after ``text``. A piece that adds no visible text (white space, a special
        token) gets 0: it says nothing the audio could confirm. Re-tokenising ``text`` with the
        piece may change the text's own last tokens (a word split differently once it grows),
        so the ratio can exceed 1; it is clamped to 1 (full acoustic support, never more).
        """
        am = self.acoustic
        base = am.text_tokens(text)
        scorer.advance(base)
        rows: list[list[int] | None] = []
        for c in candidates:
            if c in self.stops:
                rows.append(base + [am.tokenizer.eot])
                continue
            full = self.lm.tokenizer.decode(tokens + [c], skip_special_tokens=True)
            added = full[len(text) :] if full.startswith(text) else full
            if "\n" in added:
                rows.append(am.text_tokens(full.split("\n")[0]) + [am.tokenizer.eot])
            elif not added.strip():
                rows.append(None)
            else:
                rows.append(am.text_tokens(full))
        scored = scorer.logprobs([r for r in rows if r is not None])
        base_lp = scorer.prefix_logprob()
        out, k = [], 0
        for row in rows:
            if row is None:
                out.append(0.0)
            else:
                out.append(min(1.0, math.exp(scored[k] - base_lp)))
                k += 1
        return torch.tensor(out)
