"""Gradient Cuff (Hu et al., 2024): a jailbreak detector that reads the LLM's own refusals.

The refusal loss of a prompt x is f(x) = 1 − p(refusal), p estimated from N sampled replies
(refusal judged by :mod:`perception.llm.refusal`). Stage 1 rejects when p > 0.5 (f < 0.5).
Stage 2 estimates the gradient of f with respect to the user tokens' input embeddings by zeroth
order, g = (1/P) Σ_p (f(x + μ·u_p) − f(x)) / μ · u_p with u_p ~ N(0, I), and rejects when ‖g‖
exceeds a threshold set for a false-positive rate on benign dev prompts. All (P + 1)·N replies
are sampled in one batch: the P + 1 prompts are read once each, and their key/value caches are
repeated N times for sampling.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from perception.config import check
from perception.llm.causal_lm import CausalLM, load_causal_lm
from perception.llm.chat import ROBOT_SYSTEM_PROMPT, stop_ids
from perception.llm.refusal import is_refusal
from perception.models.store import ModelStore


@dataclass(frozen=True)
class CuffOptions:
    """N samples, P perturbations of scale μ, reply length and sampling, the two thresholds."""

    samples: int = 10
    perturbations: int = 10
    mu: float = 0.02
    max_new_tokens: int = 16
    temperature: float = 0.6
    refusal_threshold: float = 0.5  # stage 1: reject when the refusal probability exceeds it
    norm_threshold: float = float("inf")  # stage 2: set for a stated FPR on benign dev prompts
    system_prompt: str = ROBOT_SYSTEM_PROMPT
    seed: int = 0

    def __post_init__(self) -> None:
        check(self.samples >= 1 and self.perturbations >= 1, "samples, perturbations >= 1")


@dataclass(frozen=True)
class CuffResult:
    rejected: bool
    stage: str  # "refusal" (stage 1), "gradient" (stage 2) or "" (passed)
    refusal_prob: float
    gradient_norm: float
    reason: str = ""


def load_cuff_lm(model: str, adapter: str = "", store: ModelStore | None = None) -> CausalLM:
    return load_causal_lm(model, store, adapter=adapter)


class GradientCuff:
    def __init__(self, lm: CausalLM, options: CuffOptions | None = None) -> None:
        self.lm, self.options = lm, options or CuffOptions()
        self.stops = stop_ids(lm)

    def _prompt(self, text: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(1, T) ids of the chat prompt and a (T,) mask of the user's own tokens."""
        chat = [
            {"role": "system", "content": self.options.system_prompt},
            {"role": "user", "content": text},
        ]
        rendered = self.lm.tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, tokenize=False
        )
        enc = self.lm.tokenizer(
            rendered, return_offsets_mapping=True, add_special_tokens=False, return_tensors="pt"
        )
        begin = rendered.rindex(text) if text else len(rendered)
        spans = enc["offset_mapping"][0]
        user = (
            (spans[:, 0] >= begin)
            & (spans[:, 1] <= begin + len(text))
            & (spans[:, 1] > spans[:, 0])
        )
        return enc["input_ids"], user

    @torch.no_grad()
    def refusal_probs(self, embeds: torch.Tensor) -> torch.Tensor:
        """(R,) share of N sampled replies that refuse, for R prompt embeddings (R, T, C)."""
        o, model = self.options, self.lm.model
        out = model(inputs_embeds=embeds, use_cache=True)
        cache = out.cache
        cache.batch_repeat_interleave(o.samples)
        logits = out.logits[:, -1].float().repeat_interleave(o.samples, 0)  # (R·N, V)
        tokens = torch.zeros((logits.shape[0], 0), dtype=torch.long)
        done = torch.zeros(logits.shape[0], dtype=torch.bool)
        for _ in range(o.max_new_tokens):
            probs = torch.softmax(logits / o.temperature, dim=-1)
            nxt = torch.multinomial(probs, 1)[:, 0]
            done |= torch.isin(nxt, torch.tensor(sorted(self.stops)))
            tokens = torch.cat([tokens, nxt[:, None]], dim=1)
            if bool(done.all()):
                break
            out = model(input_ids=nxt[:, None], cache=cache, use_cache=True)
            cache, logits = out.cache, out.logits[:, -1].float()
        replies = [self.lm.tokenizer.decode(self._until_stop(row)) for row in tokens.tolist()]
        refused = torch.tensor([is_refusal(r) for r in replies], dtype=torch.float32)
        return refused.view(-1, o.samples).mean(1)

    def _until_stop(self, row: list[int]) -> list[int]:
        return next((row[:i] for i, t in enumerate(row) if t in self.stops), row)

    def check(self, text: str) -> CuffResult:
        """Both stages on one prompt: (P + 1)·N sampled replies in one batch."""
        o = self.options
        generator = torch.Generator().manual_seed(o.seed)
        torch.manual_seed(o.seed)
        ids, user = self._prompt(text)
        base = self.lm.model.get_input_embeddings()(ids).detach()  # (1, T, C)
        noise = torch.randn((o.perturbations, *base.shape[1:]), generator=generator)
        noise = noise * user[None, :, None]  # only the user's tokens move
        embeds = torch.cat([base, base + o.mu * noise], dim=0)  # (P+1, T, C)
        p = self.refusal_probs(embeds)
        loss = 1.0 - p  # refusal loss f
        grad = ((loss[1:] - loss[0]) / o.mu)[:, None, None] * noise  # (P, T, C)
        norm = float(grad.mean(0).norm())
        refusal = float(p[0])
        if refusal > o.refusal_threshold:
            return CuffResult(
                True,
                "refusal",
                refusal,
                norm,
                f"Gradient Cuff: the LLM refuses {refusal:.0%} of sampled replies",
            )
        if norm > o.norm_threshold:
            return CuffResult(
                True,
                "gradient",
                refusal,
                norm,
                f"Gradient Cuff: refusal-loss gradient norm {norm:.3g} > {o.norm_threshold:.3g}",
            )
        return CuffResult(False, "", refusal, norm)
