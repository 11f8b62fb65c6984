"""The safety adapter: a LoRA on the bundled LLM that refuses harmful requests and still answers
benign ones, and the refusal / over-refusal evaluation.

Owns the adapter's training set (train-split harmful requests → this project's refusal answers;
train-split benign prompts → the base model's own greedy answers, so helpfulness is kept, not
rewritten), the evaluation on held-out families (refusal judged by :mod:`perception.llm.refusal`),
a small general-knowledge check before and after, and the adapter's card. The LoRA machinery is
:mod:`perception.llm.lora`.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from perception.config import check
from perception.llm import lora
from perception.llm.causal_lm import CausalLM, load_causal_lm
from perception.llm.chat import ROBOT_SYSTEM_PROMPT, generate, messages
from perception.llm.guard import written
from perception.llm.guard.data import Row, load_rows
from perception.llm.refusal import is_refusal
from perception.models.store import default_home

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
ADAPTER = "smollm2-135m-safety"
BASE = "smollm2-135m-instruct"
BENIGN_SOURCES = ("self-instruct", "benign-edgy", "benign-robot", "benign-roleplay")
HARMFUL_SOURCES = ("advbench", "robot-harm")


@dataclass(frozen=True)
class SafetyOptions:
    """How many prompts train and evaluate the adapter; the LoRA recipe."""

    train_harmful: int = 120
    train_benign: int = 240
    eval_harmful: int = 50
    eval_benign: int = 50
    answer_tokens: int = 48  # length of the base model's own answers used as targets
    eval_tokens: int = 24  # reply length judged for refusal (as the 0-of-40 figure)
    # robot commands of the speech corpus's training split (perception.speech.dataset), answered
    # with acknowledgements under the robot's system prompt (0 = none; 200 chosen on dev: benign
    # dev over-refusal 0.24 → 0.06 at harmful dev refusal 0.94)
    train_commands: int = 200
    eval_split: str = "test"  # "dev" to compare recipes; the card's figures are "test"
    lora: lora.LoraOptions = field(default_factory=lora.LoraOptions)

    def __post_init__(self) -> None:
        check(
            self.eval_split in ("dev", "test"), f"eval_split: dev or test, got {self.eval_split}"
        )
        check(self.train_commands >= 0, f"train_commands must be >= 0, got {self.train_commands}")


@dataclass(frozen=True)
class RefusalRow:
    """One model's figures on the held-out prompts."""

    model: str
    harmful_refused: float
    benign_refused: float
    quiz_correct: float
    harmful_count: int
    benign_count: int


def pick(rows: list[Row], kinds: tuple[str, ...], sources, split: str, n: int, seed: int):
    pool = [r.text for r in rows if r.kind in kinds and r.source in sources and r.split == split]
    return random.Random(seed).sample(pool, min(n, len(pool)))


def _system(i: int) -> str:
    """Half of the examples carry the robot's system prompt, half the model's default."""
    return ROBOT_SYSTEM_PROMPT if i % 2 else ""


def own_answers(lm: CausalLM, chats: list, tokens: int) -> list[str]:
    """The base model's greedy answers to ``chats``, cached by prompt text and length."""
    key = hashlib.sha256(repr((lm.name, tokens, chats)).encode()).hexdigest()[:16]
    cache = default_home() / "safety" / f"answers-{key}.json"
    if cache.is_file():
        return json.loads(cache.read_text(encoding="utf-8"))
    answers = generate(lm, chats, tokens)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(answers), encoding="utf-8")
    return answers


def _is_command(row: Row) -> bool:
    return (
        row.source == "benign-robot" and row.family != "questions" or row.family == "robot_tasks"
    )


def examples(lm: CausalLM, rows: list[Row], options: SafetyOptions) -> list[lora.Example]:
    """Harmful → a refusal; a robot command → an acknowledgement written here; other benign
    prompts → the base model's own greedy answer under its default system prompt (under the
    robot's prompt it often declines as "a service robot"), unless that answer is itself a
    refusal (then the prompt is left out: no refusal is taught for a benign prompt). Train split
    only."""
    harmful = pick(rows, ("harmful",), HARMFUL_SOURCES, "train", options.train_harmful, 0)
    pool = [r for r in rows if r.kind == "benign" and r.source in BENIGN_SOURCES]
    pool = [r for r in pool if r.split == "train"]
    benign = random.Random(1).sample(pool, min(options.train_benign, len(pool)))
    answers = own_answers(lm, [messages(r.text) for r in benign], options.answer_tokens)
    out = []
    for i, (row, answer) in enumerate(zip(benign, answers, strict=True)):
        acks = written.ACKNOWLEDGEMENTS
        target = acks[i % len(acks)] if _is_command(row) else answer
        if target and not is_refusal(target):
            out.append(lora.Example(messages(row.text, _system(i)), target))
    for i, text in enumerate(harmful):
        refusal = written.REFUSALS[i % len(written.REFUSALS)]
        out.append(lora.Example(messages(text, _system(i)), refusal))
    for i, text in enumerate(corpus_commands(options.train_commands)):
        acks = written.ACKNOWLEDGEMENTS
        out.append(lora.Example(messages(text, ROBOT_SYSTEM_PROMPT), acks[i % len(acks)]))
    return out


def corpus_commands(n: int, seed: int = 0) -> list[str]:
    """``n`` robot commands of the speech corpus's training split (none of its calibration /
    dev / test sentences), drawn with a fixed seed."""
    from perception.speech.dataset import train_sentences

    pool = [t for t, kind in train_sentences(seed) if kind == "command"]
    return random.Random(4).sample(pool, min(n, len(pool)))


def quiz(lm: CausalLM) -> float:
    answers = generate(lm, [messages(q) for q, _ in written.QUIZ], 24)
    return sum(
        bool(re.search(want, a.lower()))
        for (_, want), a in zip(written.QUIZ, answers, strict=True)
    ) / len(written.QUIZ)


def held_out_replies(
    lm: CausalLM, rows: list[Row], options: SafetyOptions
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(prompt, reply) pairs for the held-out harmful requests and benign prompts of
    ``options.eval_split``, under the robot's system prompt."""
    split = options.eval_split
    harmful = pick(rows, ("harmful",), HARMFUL_SOURCES, split, options.eval_harmful, 2)
    benign = pick(rows, ("benign",), BENIGN_SOURCES, split, options.eval_benign, 3)
    replies = generate(
        lm, [messages(t, ROBOT_SYSTEM_PROMPT) for t in harmful + benign], options.eval_tokens
    )
    pairs = list(zip(harmful + benign, replies, strict=True))
    return pairs[: len(harmful)], pairs[len(harmful) :]


def evaluate(lm: CausalLM, rows: list[Row], options: SafetyOptions, name: str) -> RefusalRow:
    """Refusal of held-out harmful requests, over-refusal of held-out benign prompts (of
    ``options.eval_split``), quiz."""
    harmful, benign = held_out_replies(lm, rows, options)
    return refusal_row(name, harmful, benign, quiz(lm))


def refusal_row(name: str, harmful: list, benign: list, quiz: float) -> RefusalRow:
    """The figures of :func:`held_out_replies`' pairs."""
    h = [is_refusal(r) for _, r in harmful]
    b = [is_refusal(r) for _, r in benign]
    return RefusalRow(name, sum(h) / len(h), sum(b) / len(b), quiz, len(h), len(b))


def format_refusals(table: list[RefusalRow]) -> str:
    lines = [
        "guarded LLM on held-out prompts (robot system prompt, greedy, refusal by keyword rule)",
        f"{'model':40} {'harmful refused':>16} {'benign refused':>15} {'quiz':>6}",
    ]
    for r in table:
        lines.append(
            f"{r.model:40} {r.harmful_refused:9.3f} of {r.harmful_count:3d} "
            f"{r.benign_refused:8.3f} of {r.benign_count:3d} {r.quiz_correct:6.2f}"
        )
    return "\n".join(lines)


def refusal_table(
    folder: Path | None = None, options: SafetyOptions | None = None
) -> list[RefusalRow]:
    """The base model and the base model with the bundled adapter, on the same prompts."""
    options = options or SafetyOptions()
    rows = load_rows(folder)
    base = load_causal_lm(BASE)
    table = [evaluate(base, rows, options, BASE)]
    guarded = load_causal_lm(BASE, adapter=ADAPTER)
    return table + [evaluate(guarded, rows, options, f"{BASE} + {ADAPTER}")]


def train_adapter(folder: Path | None, out: Path, options: SafetyOptions) -> list[RefusalRow]:
    """Train, save (``out`` folder + card beside it) and evaluate the safety adapter."""
    rows = load_rows(folder)
    base = load_causal_lm(BASE)
    before = evaluate(base, rows, options, BASE)
    print(format_refusals([before]), file=sys.stderr)
    data = examples(base, rows, options)
    print(f"fine-tuning on {len(data)} examples", file=sys.stderr)
    tuned = lora.attach(base, options.lora)
    losses = lora.fine_tune(tuned, data, options.lora)
    lora.save(tuned, out)
    merged = lora.load(load_causal_lm(BASE), out)
    after = evaluate(merged, rows, options, f"{BASE} + {out.name}")
    write_card(out, options, [before, after], data, losses)
    return [before, after]


def write_card(out: Path, options: SafetyOptions, table: list[RefusalRow], data, losses) -> Path:
    before, after = table
    split = options.eval_split
    return lora.write_card(
        out,
        base=BASE,
        description=(
            f"LoRA (rank {options.lora.rank}, alpha {options.lora.alpha}, "
            f"{'/'.join(options.lora.targets)}, float16) on {BASE}: refuses harmful requests, "
            "answers benign ones as the base model does"
        ),
        training=(
            f"{len(data)} chat examples from the guard data's train split (perception.llm.guard."
            f"data, shared folder read at run time): {options.train_harmful} harmful requests "
            "(AdvBench train families + robot-harm written here) answered with the refusals of "
            f"written.REFUSALS, {options.train_benign} benign prompts (self-instruct, "
            "benign-edgy, robot, role-play train families): robot commands answered with the "
            "acknowledgements of written.ACKNOWLEDGEMENTS, the rest with the base model's own "
            f"greedy answers under its default system prompt ({options.answer_tokens} tokens; "
            f"prompts whose answer was itself a refusal left out); {options.train_commands} "
            "robot commands of the speech corpus's training split answered with "
            f"acknowledgements under the robot's system prompt; {options.lora.epochs} epochs, "
            f"lr {options.lora.lr}, batch {options.lora.batch_size}; final loss {losses[-1]:.3f}"
        ),
        metrics={
            f"{split}_harmful_refused_base": round(before.harmful_refused, 4),
            f"{split}_benign_refused_base": round(before.benign_refused, 4),
            "quiz_correct_base": round(before.quiz_correct, 4),
            f"{split}_harmful_refused": round(after.harmful_refused, 4),
            f"{split}_benign_refused": round(after.benign_refused, 4),
            "quiz_correct": round(after.quiz_correct, 4),
        },
        header="# Written by `perception llm train-safety`; figures on held-out families.\n",
        licence="Apache-2.0 (trained here; data licences as for guard-minilm)",
    )
