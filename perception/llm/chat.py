"""Chat generation with a loaded causal LM: batched replies for evaluation, and a token stream
for services (partial text after every token, stop on request).

Owns the chat messages (an optional system prompt, then the user's text), greedy or sampled
decoding, and the stop tokens. It knows nothing about guards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from perception.llm.causal_lm import CausalLM

ROBOT_SYSTEM_PROMPT = (
    "You are the on-board assistant of a service robot that moves around a building, carries "
    "things, reads signs and talks with people. Answer briefly and helpfully."
)


def stop_ids(lm: CausalLM) -> set[int]:
    """Token ids that end the assistant's turn (end-of-sequence and the chat end marker)."""
    tok = lm.tokenizer
    ids = {tok.eos_token_id} if tok.eos_token_id is not None else set()
    generation_eos = getattr(lm.model.generation_config, "eos_token_id", None)
    ids |= set(
        generation_eos
        if isinstance(generation_eos, list)
        else [generation_eos]
        if generation_eos is not None
        else []
    )
    for marker in ("<|im_end|>", "<|eot_id|>", "<end_of_turn>"):
        token_id = tok.convert_tokens_to_ids(marker) if marker in tok.get_vocab() else None
        if token_id is not None:
            ids.add(token_id)
    return ids


def messages(user: str, system: str = "") -> tuple[tuple[str, str], ...]:
    """(role, content) pairs: the system prompt when given (else the model's own), the user."""
    return ((("system", system),) if system else ()) + (("user", user),)


def prompt_ids(lm: CausalLM, chat: tuple[tuple[str, str], ...]) -> list[int]:
    """Token ids of the chat prompt, ending where the assistant's answer begins."""
    rendered = [{"role": r, "content": c} for r, c in chat]
    out = lm.tokenizer.apply_chat_template(
        rendered, add_generation_prompt=True, tokenize=True, return_dict=True
    )
    return list(out["input_ids"])


@torch.no_grad()
def generate(
    lm: CausalLM,
    chats: list[tuple[tuple[str, str], ...]],
    max_new_tokens: int,
    batch_size: int = 16,
) -> list[str]:
    """Greedy replies to each chat, batched with left padding."""
    pad = lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else 0
    stops = sorted(stop_ids(lm))
    out: list[str] = []
    for start in range(0, len(chats), batch_size):
        prompts = [prompt_ids(lm, c) for c in chats[start : start + batch_size]]
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), pad)  # (B, T), left-padded
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, p in enumerate(prompts):
            ids[i, width - len(p) :], mask[i, width - len(p) :] = torch.tensor(p), 1
        gen = lm.model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=stops,
            pad_token_id=pad,
        )
        out += [lm.tokenizer.decode(g[width:], skip_special_tokens=True).strip() for g in gen]
    return out


@torch.no_grad()
def stream(
    lm: CausalLM,
    chat: tuple[tuple[str, str], ...],
    max_new_tokens: int,
    temperature: float = 0.0,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[str, int]]:
    """(text so far, tokens so far) after each generated token; ends at a stop token, at
    ``max_new_tokens``, or when ``should_stop()`` turns true (checked before every token)."""
    stops = stop_ids(lm)
    ids = torch.tensor([prompt_ids(lm, chat)], device=lm.model.device)
    cache, tokens = None, []
    for _ in range(max_new_tokens):
        if should_stop():
            return
        out = lm.model(input_ids=ids, cache=cache, use_cache=True)
        cache, logits = out.cache, out.logits[0, -1].float()
        if temperature > 0:
            token = int(torch.multinomial(torch.softmax(logits / temperature, -1), 1))
        else:
            token = int(torch.argmax(logits))
        if token in stops:
            return
        tokens.append(token)
        ids = torch.tensor([[token]], device=lm.model.device)
        yield lm.tokenizer.decode(tokens, skip_special_tokens=True), len(tokens)
