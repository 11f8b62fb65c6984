"""Generative error correction (GER): an instruct LLM reads the N-best list and writes one
transcript.

Owns the prompt (system text, hand-written few-shot examples, the candidate list), the LLM's
stepping with a key/value cache, and the greedy loop that UADF's fused decoding shares: it checks
drafts (the rest of a hypothesis that the answer so far begins) in one forward pass and keeps
what the step-by-step choice would have taken, so the result is that of one token at a time.
Nothing here is English-specific except the default prompt text, which is configurable.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from perception.config import check
from perception.llm.causal_lm import CausalLM
from perception.llm.chat import stop_ids
from perception.speech.context import llm_line
from perception.speech.guards import GuardOptions, RepeatGuard, length_budget

SYSTEM_PROMPT = (
    "You correct speech recognition output. You get several candidate transcriptions of one "
    "utterance. Write the one sentence the speaker most likely said, fixing words that do not "
    "fit. Write only that sentence."
)
# Hand-written examples (not drawn from any data split): they show the answer format.
FEW_SHOT: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("bring me the read cap", "bring me the red cup", "bring me the red cap"),
        "Bring me the red cup.",
    ),
    (
        ("please wait by the lift", "lease wait by the lift", "please weight by the lift"),
        "Please wait by the lift.",
    ),
)


@dataclass(frozen=True)
class LlmOptions:
    """The correcting LLM (a model and an optional adapter merged into it) and its decoding;
    ``top_k`` is the candidate count per fused step."""

    model: str = "smollm2-135m-instruct"
    # a bundled LoRA adapter's card or a peft folder ("" = the model alone); the default is the
    # GER adapter trained on open-text N-best → reference pairs (configs/llm/ger-open.yaml), the
    # one that wins on the real recordings (UADF 5.34% vs 5.69% AM-only; smollm2-ger-lora,
    # trained on robot commands, writes commands and stays at 5.69% only by its guard); it was
    # trained without the few-shot examples
    adapter: str = "smollm2-ger-open"
    max_new_tokens: int = 48
    top_k: int = 10
    system_prompt: str = SYSTEM_PROMPT
    few_shot: bool = False  # the hand-written example turns (for a model not tuned for GER)
    # spoken languages the corrector runs on; for any other, Whisper's text stands and the
    # transcript says no corrector ran (the adapter learnt English pairs only; on rendered
    # German, French and Spanish it made the text worse: docs/speech.md)
    languages: tuple[str, ...] = ("en",)
    sparse_mlp_tau: float = 0.0  # > 0: DEFT sparse MLP skipping |silu(gate)| <= tau (0 = dense)

    def __post_init__(self) -> None:
        check(self.max_new_tokens >= 1, f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        check(self.sparse_mlp_tau >= 0, f"sparse_mlp_tau must be >= 0, got {self.sparse_mlp_tau}")
        check(self.top_k >= 1, f"top_k must be >= 1, got {self.top_k}")


def _candidates(nbest: tuple[str, ...] | list[str], context: tuple[str, ...] = ()) -> str:
    line = llm_line(context)
    return (line + "\n" if line else "") + "Candidates:\n" + "\n".join(f"- {h}" for h in nbest)


def build_messages(
    nbest: list[str], options: LlmOptions, context: tuple[str, ...] = ()
) -> list[dict[str, str]]:
    """Chat messages: system text, optional few-shot turns, then this utterance's candidates
    (after the line naming the expected phrases, when there are any)."""
    messages = [{"role": "system", "content": options.system_prompt}]
    if options.few_shot:
        for hyps, answer in FEW_SHOT:
            messages += [
                {"role": "user", "content": _candidates(hyps)},
                {"role": "assistant", "content": answer},
            ]
    messages.append({"role": "user", "content": _candidates(nbest, context)})
    return messages


def prompt_ids(
    lm: CausalLM, nbest: list[str], options: LlmOptions, context: tuple[str, ...] = ()
) -> torch.Tensor:
    """(1, P) token ids of the chat prompt, ending where the assistant's answer begins."""
    return _chat_ids(lm, build_messages(nbest, options, context), add_generation_prompt=True)


def _chat_ids(
    lm: CausalLM, messages: list[dict[str, str]], add_generation_prompt: bool
) -> torch.Tensor:
    encoded = lm.tokenizer.apply_chat_template(
        messages,
        add_generation_prompt=add_generation_prompt,
        return_tensors="pt",
        return_dict=True,
    )
    return encoded["input_ids"].to(lm.model.device)


class PromptCache:
    """Reuses the LLM's key/value cache across prompts that share a beginning.

    Reading a prompt (hundreds of tokens) costs far more than generating a short answer on a
    CPU. Two beginnings repeat: the instructions and examples (the same for every utterance),
    and a whole prompt (the same for every fusion method run on one utterance's N-best).
    """

    def __init__(self, lm: CausalLM, options: LlmOptions) -> None:
        self.lm = lm
        messages = build_messages([], options)[:-1]  # system text and examples only
        self._fixed = tuple(_chat_ids(lm, messages, add_generation_prompt=False)[0].tolist())
        self._fixed_cache = None
        self._last: tuple[tuple[int, ...], object, torch.Tensor] | None = None

    @torch.no_grad()
    def _run(self, ids: torch.Tensor, cache) -> tuple[object, torch.Tensor]:
        out = self.lm.model(input_ids=ids, cache=cache, use_cache=True)
        return out.cache, out.logits[0, -1].float()

    def start(self, prompt: torch.Tensor) -> tuple[object, torch.Tensor]:
        """A private cache holding ``prompt`` (1, P), and the logits of the first answer token."""
        key = tuple(prompt[0].tolist())
        if self._last is None or self._last[0] != key:
            n = len(self._fixed)
            cache, rest = None, prompt
            if n and len(key) > n and key[:n] == self._fixed:
                if self._fixed_cache is None:
                    self._fixed_cache = self._run(prompt[:, :n], None)[0]
                cache, rest = copy.deepcopy(self._fixed_cache), prompt[:, n:]
            self._last = (key, *self._run(rest, cache))
        return copy.deepcopy(self._last[1]), self._last[2]


class LlmStepper:
    """Feeds tokens to the LLM, keeping its key/value cache. A draft of several tokens (a
    guess of what comes next) is checked in one forward pass; the part that was not taken is
    cut from the cache again."""

    def __init__(self, prompt_cache: PromptCache, prompt: torch.Tensor) -> None:
        self.lm = prompt_cache.lm
        self._past, self._first = prompt_cache.start(prompt)
        self._pending: int | None = None  # taken, not yet fed to the model
        self._drafted = 0  # draft tokens fed by the last lookahead

    @torch.no_grad()
    def lookahead(self, draft: list[int]) -> list[torch.Tensor]:
        """Raw (V,) logits after the tokens taken so far and after each prefix of ``draft``:
        ``len(draft) + 1`` rows from one forward pass."""
        inputs = ([] if self._pending is None else [self._pending]) + list(draft)
        self._drafted = len(draft)
        if not inputs:
            return [self._first]
        ids = torch.tensor([inputs], device=self.lm.model.device)
        out = self.lm.model(input_ids=ids, cache=self._past, use_cache=True)
        self._past = out.cache  # updated in place by transformers; kept for the next call
        rows = list(out.logits[0].float())
        return rows if self._pending is not None else [self._first, *rows]

    def take(self, matched: int, token: int) -> None:
        """After a lookahead: the first ``matched`` draft tokens were taken, then ``token``."""
        extra = self._drafted - matched
        if extra:
            self._past.crop(-extra)
        self._pending, self._drafted = token, 0


def draft_from(lm: CausalLM, nbest: list[str], text: str, limit: int) -> list[int]:
    """A guess of the answer's next tokens: the rest of the first hypothesis that the answer so
    far begins (letter case ignored), in LLM tokens. Small LLMs mostly copy a hypothesis, so
    most of the answer is checked in one forward pass."""
    said = text.lstrip()
    if not said:  # the first token's form (capital, leading space) is the LLM's to choose
        return []
    for hyp in nbest:
        if hyp.lower().startswith(said.lower()) and len(hyp) > len(said):
            return lm.tokenizer.encode(hyp[len(said) :], add_special_tokens=False)[:limit]
    return []


def greedy(
    lm: CausalLM,
    stepper: LlmStepper,
    nbest: list[str],
    budget: int,
    choose,
) -> str:
    """Greedy decoding of the answer's first line, at most ``budget`` tokens.

    ``choose(tokens, text, logits)`` picks the next token from raw (V,) logits, or returns
    None or a stop token to end. Rows are taken from drafts (:func:`draft_from`) while each
    chosen token equals the draft's; the result equals one-token-at-a-time decoding.
    """
    tokens: list[int] = []
    text = ""
    while len(tokens) < budget:
        draft = draft_from(lm, nbest, text, budget - len(tokens) - 1)
        rows = stepper.lookahead(draft)
        for i, row in enumerate(rows):
            token = choose(tokens, text, row)
            if token is None:
                return first_line(text)
            tokens.append(token)
            text = lm.tokenizer.decode(tokens, skip_special_tokens=True)
            if line_ended(text) or len(tokens) >= budget:
                return first_line(text)
            if i == len(draft) or token != draft[i]:
                stepper.take(i, token)
                break
    return first_line(text)


def example_lines(options: LlmOptions) -> list[str]:
    """Every line of the prompt's few-shot examples (candidates and answers)."""
    if not options.few_shot:
        return []
    return [line for hyps, answer in FEW_SHOT for line in (*hyps, answer)]


def first_allowed(
    lm: CausalLM, tokens: list[int], ranked: list[int], stops: set[int], repeat: RepeatGuard
) -> int | None:
    """The first of ``ranked`` (best first) that keeps the answer within the repetition rule;
    None when a stop token comes first or every one would break the rule."""
    for token in ranked:
        if token in stops:
            return None
        if repeat.allows(lm.tokenizer.decode(tokens + [token], skip_special_tokens=True)):
            return token
    return None


class Corrector:
    """GER: greedy decoding of the LLM's answer to the N-best prompt, within the guards'
    length budget and repetition rule (:mod:`perception.speech.guards`)."""

    def __init__(
        self, lm: CausalLM, options: LlmOptions, prompt_cache: PromptCache | None = None
    ) -> None:
        self.lm, self.options = lm, options
        self.stops = stop_ids(lm)
        self.prompt_cache = prompt_cache or PromptCache(lm, options)

    def correct(
        self, nbest: list[str], guards: GuardOptions | None = None, context: tuple[str, ...] = ()
    ) -> str:
        guards = guards or GuardOptions()
        prompt = prompt_ids(self.lm, nbest, self.options, context)
        stepper = LlmStepper(self.prompt_cache, prompt)
        budget = length_budget(self.lm.tokenizer, nbest, guards, self.options.max_new_tokens)
        repeat = RepeatGuard(nbest, guards.repeat_ngram if guards.enabled else 0)

        def choose(tokens: list[int], text: str, logits: torch.Tensor) -> int | None:
            ranked = torch.topk(logits, self.options.top_k).indices.tolist()
            return first_allowed(self.lm, tokens, ranked, self.stops, repeat)

        return greedy(self.lm, stepper, nbest, budget, choose)


def line_ended(text: str) -> bool:
    """True once the answer's first line is complete (only that line is used)."""
    return "\n" in text.lstrip()


def first_line(text: str) -> str:
    """The answer's first non-empty line (small LLMs sometimes go on after the sentence)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0].lstrip("-• ").strip() if lines else ""
