"""Scripted stand-ins for the LLM and the acoustic model, so that decoding and guard logic can
be tested without weights: a word-level tokenizer, an LLM whose next token is a table lookup, and
an acoustic model whose log-probabilities are a table over token sequences."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import torch

from perception.llm.causal_lm import CausalLM

EOS = "<eos>"
ANSWER = "<answer>"  # ends the chat prompt, where the assistant's answer begins
EOT = 1_000_000  # the scripted acoustic model's end-of-text id


class WordTokenizer:
    """Tokens are "\\n", a lone " ", or a word with its leading space; id 0 is <eos>."""

    def __init__(self, words: list[str]) -> None:
        self.vocab = [EOS, ANSWER, "<special>", "\n", " ", *dict.fromkeys(words)]
        self.ids = {w: i for i, w in enumerate(self.vocab)}
        self.eos_token_id = 0

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        pieces = re.findall(r"\n| ?[^ \n]+| ", text)
        return [self.ids.setdefault(p, self._add(p)) for p in pieces]

    def _add(self, piece: str) -> int:
        self.vocab.append(piece)
        return len(self.vocab) - 1

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        special = {0, 1, 2}
        return "".join(self.vocab[i] for i in ids if not (skip_special_tokens and i in special))

    def apply_chat_template(self, messages, add_generation_prompt=False, **_):
        ids = self.encode("".join(m["content"] + "\n" for m in messages))
        ids += [self.ids[ANSWER]] if add_generation_prompt else []
        return {"input_ids": torch.tensor([ids])}

    def get_vocab(self) -> dict[str, int]:
        return dict(self.ids)

    def convert_tokens_to_ids(self, token: str) -> int:
        return self.ids[token]

    def __len__(self) -> int:
        return len(self.vocab)


class _Cache:
    """Counts the tokens a model has seen; ``crop(-n)`` forgets the last n."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def crop(self, n: int) -> None:
        assert n < 0, "crop takes a negative count, as transformers' caches do"
        self.seen = self.seen[:n]


class ScriptedLM(torch.nn.Module):
    """Next token = ``table[last token seen]`` (logit 10), <eos> logit 5, the rest 0.
    ``calls`` counts forward passes."""

    def __init__(self, tokenizer: WordTokenizer, table: dict[str, str]):
        super().__init__()
        self.tok = tokenizer
        self.table = {
            tokenizer.encode(k)[0] if k != ANSWER else tokenizer.ids[ANSWER]: tokenizer.encode(v)[
                0
            ]
            for k, v in table.items()
        }
        self.generation_config = SimpleNamespace(eos_token_id=0)
        self.calls = 0
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    @property
    def device(self) -> torch.device:
        return self.anchor.device

    def forward(self, input_ids, cache=None, use_cache=True, **_):
        self.calls += 1
        cache = cache if cache is not None else _Cache()
        rows = []
        for token in input_ids[0].tolist():
            cache.seen.append(token)
            row = torch.zeros(len(self.tok))
            row[0] = 5.0
            if token in self.table:
                row[self.table[token]] = 10.0
            rows.append(row)
        return SimpleNamespace(logits=torch.stack(rows)[None], cache=cache)


def scripted_lm(table: dict[str, str], words: list[str]) -> CausalLM:
    tok = WordTokenizer(words + list(table) + list(table.values()))
    return CausalLM("scripted", ScriptedLM(tok, table).eval(), tok)


class ScriptedScorer:
    """PrefixScorer's interface over a table: log P(sequence) = ``table[text]`` where text is
    the sequence decoded, "<eot>" appended for the end token; unknown sequences score −20."""

    def __init__(self, am: ScriptedAcoustic) -> None:
        self.am, self.base = am, []

    def advance(self, tokens):
        self.base = list(tokens)

    def _score(self, row) -> float:
        return self.am.table.get(self.am.render(row), -20.0)

    def logprobs(self, rows):
        return [self._score(r) for r in rows]

    def prefix_logprob(self) -> float:
        return self._score(self.base)


class ScriptedAcoustic:
    """The acoustic model's interface as the fused decoder and the guards use it."""

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table
        self.words: list[str] = []
        self.tokenizer = SimpleNamespace(eot=EOT, decode=lambda ids: f"<{ids}>")

    def text_tokens(self, text: str) -> list[int]:
        out = []
        for w in text.strip().split():
            if w not in self.words:
                self.words.append(w)
            out.append(self.words.index(w))
        return out

    def render(self, row) -> str:
        return " ".join("<eot>" if t == EOT else self.words[t] for t in row)

    def scorer(self, features, temperature=1.0) -> ScriptedScorer:
        return ScriptedScorer(self)

    def text_score(self, features, texts):
        return [self.table.get(" ".join(t.split()), -20.0) / max(len(t.split()), 1) for t in texts]


def p(logprob: float) -> float:
    return math.exp(logprob)
