"""GER fine-tuning, the UADF paper's way: a LoRA adapter on the correcting LLM, trained on
Whisper N-best → reference pairs.

Owns the training data's N-best lists (``corpus: open``, the default: open English text and
robot commands rendered in mild conditions by :func:`perception.speech.dataset.
build_open_split`; ``corpus: speech-split``: the noisy speech training split of
:func:`~perception.speech.dataset.build_train_split`), decoded by the recogniser's own beam
search and cached beside the audio; the chat examples (the GER prompt of
:mod:`perception.speech.ger` with a context list drawn by :func:`perception.speech.context.
training_lists`, so the adapter sees at training what it sees at inference); the dev check
before and after (GER's proposal WER on the speech dev split's N-best, no acoustic acceptance);
and the adapter's card. Nothing from the calibration, dev or test splits trains, and no real
recording does.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from tqdm import tqdm

from perception.config import check
from perception.eval.wer import corpus_wer, normalize, normalizer_for
from perception.llm import lora
from perception.llm.causal_lm import CausalLM, load_causal_lm
from perception.models.store import default_home
from perception.speech.api import SpeechOptions, SpeechRecognizer
from perception.speech.context import training_lists
from perception.speech.dataset import (
    Item,
    build_dataset,
    build_open_split,
    build_train_split,
    load_item_audio,
)
from perception.speech.ger import Corrector, LlmOptions, PromptCache, build_messages

ADAPTER = "smollm2-ger-open"  # the default adapter (configs/llm/ger-open.yaml trains it)
ALL_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class GerTuneConfig:
    """What trains the GER adapter: the data (seed, how many training clips), the recogniser
    whose N-best it reads (``speech.asr``) and the prompt it is trained with (``speech.llm``:
    its model is the base, its ``few_shot`` the prompt's examples), and the LoRA recipe."""

    output: str = f"perception/llm/weights/{ADAPTER}"
    data_dir: str = ""  # "" = $PERCEPTION_HOME/data/speech
    seed: int = 0
    corpus: Literal["open", "speech-split"] = "open"
    open_count: int = 1600  # sentences of the open-text split
    context_lists: bool = True  # prompts carry training context lists (right/partly wrong/none)
    # a training pair is kept only when at most this share of its reference's words is in no
    # hypothesis (1.0 keeps all): the adapter should learn to correct from evidence, not to
    # write a sentence the N-best does not support
    max_unheard: float = 1.0
    train_limit: int | None = None  # speech-split: None = every training sentence once
    dev_limit: int | None = None
    threads: int = 2
    speech: SpeechOptions = field(
        default_factory=lambda: SpeechOptions(llm=LlmOptions(adapter=""))
    )
    lora: lora.LoraOptions = field(
        default_factory=lambda: lora.LoraOptions(targets=ALL_PROJECTIONS, max_tokens=384)
    )

    def __post_init__(self) -> None:
        check(self.threads >= 1, f"threads must be >= 1, got {self.threads}")
        check(
            self.corpus in ("open", "speech-split"),
            f"corpus must be 'open' or 'speech-split', got {self.corpus!r}",
        )
        check(
            self.speech.llm.adapter == "",
            "speech.llm.adapter must be '' here (the adapter trains on the base model)",
        )

    @property
    def data(self) -> Path:
        return Path(self.data_dir) if self.data_dir else default_home() / "data" / "speech"


@dataclass(frozen=True)
class Pair:
    """One clip's N-best (best first) and its reference."""

    id: str
    nbest: tuple[str, ...]
    reference: str
    kind: str


def nbest_pairs(rec: SpeechRecognizer, root: Path, items: list[Item], name: str) -> list[Pair]:
    """The recogniser's N-best for ``items``, cached in ``root/{name}-nbest.jsonl`` under a
    key of the Whisper options and the clips' ids."""
    key = json.dumps(
        [dataclasses.asdict(rec.options.asr), rec.options.max_tokens, [i.id for i in items]]
    )
    cache = Path(root) / f"{name}-nbest.jsonl"
    if cache.is_file():
        lines = cache.read_text(encoding="utf-8").splitlines()
        if lines and lines[0] == key:
            rows = [json.loads(x) for x in lines[1:]]
            return [Pair(**{**r, "nbest": tuple(r["nbest"])}) for r in rows]
    out = []
    for item in tqdm(items, desc=f"N-best {name}"):
        decoded = rec.decode(load_item_audio(root, item))
        nbest = tuple(h.text for h in decoded.nbest)
        out.append(Pair(item.id, nbest, item.text, item.kind))
    body = "".join(json.dumps(dataclasses.asdict(p)) + "\n" for p in out)
    cache.write_text(key + "\n" + body, encoding="utf-8")
    return out


def unheard_share(pair: Pair) -> float:
    """Share of the reference's words that no hypothesis of the N-best holds."""
    reference = normalize(pair.reference).split()
    heard = {w for h in pair.nbest for w in normalize(h).split()}
    return sum(w not in heard for w in reference) / max(len(reference), 1)


def examples(
    pairs: list[Pair], options: LlmOptions, contexts: list[tuple[str, ...]] | None = None
) -> list[lora.Example]:
    """GER prompt (system text, optional few-shot turns, the context line, the candidates) →
    the reference. Clips with no hypothesis are left out."""
    out = []
    for i, p in enumerate(pairs):
        if not p.nbest:
            continue
        context = contexts[i] if contexts else ()
        messages = build_messages(list(p.nbest), options, context)
        chat = tuple((m["role"], m["content"]) for m in messages)
        out.append(lora.Example(chat, p.reference))
    return out


def training_items(cfg: GerTuneConfig, root: Path) -> tuple[list[Item], str]:
    """The clips that train, and the N-best cache's name."""
    if cfg.corpus == "open":
        return build_open_split(root, cfg.seed, cfg.open_count), "open"
    return build_train_split(root, cfg.seed, cfg.train_limit), "train"


def ger_wer(lm: CausalLM, pairs: list[Pair], options: SpeechOptions) -> dict[str, float]:
    """WER of GER's proposals (guards' length budget and repetition rule, no acoustic
    acceptance) and of the best hypothesis, overall and per sentence kind."""
    corrector = Corrector(lm, options.llm, PromptCache(lm, options.llm))
    proposals = [
        corrector.correct(list(p.nbest), options.guards) if p.nbest else "" for p in pairs
    ]
    report = {}
    for kind in ("all", "command", "general"):
        keep = [i for i, p in enumerate(pairs) if kind in ("all", p.kind)]
        ger = [(pairs[i].reference, proposals[i]) for i in keep]
        best = [(pairs[i].reference, (pairs[i].nbest or ("",))[0]) for i in keep]
        report[f"ger_{kind}"] = corpus_wer(ger, normalizer=normalizer_for("en"))
        report[f"am_only_{kind}"] = corpus_wer(best, normalizer=normalizer_for("en"))
    return report


def finetune(cfg: GerTuneConfig) -> dict:
    """Render and decode the training split, train the adapter, save it with its card, and
    report dev GER WER with the frozen and the tuned LLM."""
    torch.set_num_threads(cfg.threads)
    root = cfg.data
    speech = dataclasses.replace(cfg.speech, fusion="none")
    rec = SpeechRecognizer(speech)
    train_items, name = training_items(cfg, root)
    dev_items = build_dataset(root, cfg.seed)["dev"][: cfg.dev_limit]
    decoded = nbest_pairs(rec, root, train_items, name)
    train = [p for p in decoded if p.nbest and unheard_share(p) <= cfg.max_unheard]
    print(
        f"{len(train)} of {len(decoded)} pairs have at most {cfg.max_unheard:.0%} of their "
        "reference's words in no hypothesis",
        file=sys.stderr,
    )
    dev = nbest_pairs(rec, root, dev_items, "dev")
    contexts = None
    if cfg.context_lists:
        contexts = training_lists([p.reference for p in train], np.random.default_rng(cfg.seed))
    data = examples(train, speech.llm, contexts)
    print(f"{len(data)} training examples from {len(train_items)} clips", file=sys.stderr)
    base = load_causal_lm(speech.llm.model)
    before = ger_wer(base, dev, speech)
    print(f"dev, frozen LLM: {before}", file=sys.stderr)
    t0 = time.perf_counter()
    tuned = lora.attach(base, cfg.lora)
    losses = lora.fine_tune(tuned, data, cfg.lora)
    train_s = time.perf_counter() - t0
    out = Path(cfg.output)
    lora.save(tuned, out)
    after = ger_wer(lora.load(load_causal_lm(speech.llm.model), out), dev, speech)
    print(f"dev, tuned LLM: {after}", file=sys.stderr)
    report = {
        "train_clips": len(train_items),
        "train_pairs_kept": len(train),
        "train_examples": len(data),
        "dev_clips": len(dev),
        "train_seconds": round(train_s, 1),
        "final_loss": losses[-1],
        "mean_loss_last_epoch": statistics.mean(losses[-len(losses) // cfg.lora.epochs :]),
        "dev_frozen": before,
        "dev_tuned": after,
    }
    _card(cfg, out, report)
    return report


def _data_text(cfg: GerTuneConfig) -> str:
    """The card's words for the training data."""
    lists = "; prompts with right, partly wrong or no context lists" if cfg.context_lists else ""
    kept = (
        f", the pairs whose reference has at most {cfg.max_unheard:.0%} of its words in no "
        "hypothesis"
        if cfg.max_unheard < 1
        else ""
    )
    if cfg.corpus == "open":
        return (
            f"the open-text split (perception.speech.dataset.build_open_split, seed {cfg.seed}, "
            f"{cfg.open_count} sentences: Debian fortunes, WordNet examples and robot commands "
            "in no calibration / dev / test split, rendered in mild conditions)" + kept + lists
        )
    return (
        f"the speech training split (perception.speech.dataset.build_train_split, seed "
        f"{cfg.seed}: robot commands and everyday sentences in no calibration / dev / test "
        "split, rendered with the same voices, speeds, rooms and noises)" + lists
    )


def _card(cfg: GerTuneConfig, out: Path, report: dict) -> Path:
    o = cfg.lora
    llm = cfg.speech.llm
    return lora.write_card(
        out,
        base=llm.model,
        description=(
            f"LoRA (rank {o.rank}, alpha {o.alpha}, {'/'.join(o.targets)}, float16) on "
            f"{llm.model}: generative error correction of Whisper {cfg.speech.asr.model} N-best "
            f"lists (GER prompt, few_shot={llm.few_shot})"
        ),
        training=(
            f"{report['train_examples']} N-best → reference pairs: {_data_text(cfg)}, N-best "
            f"from the recogniser's beam search; {o.epochs} epochs, lr {o.lr}, batch "
            f"{o.batch_size}, {report['train_seconds']:.0f} s on {cfg.threads} CPU threads; "
            f"final loss {report['final_loss']:.3f}"
        ),
        metrics={
            "dev_ger_wer_frozen": round(report["dev_frozen"]["ger_all"], 4),
            "dev_ger_wer": round(report["dev_tuned"]["ger_all"], 4),
            "dev_am_only_wer": round(report["dev_tuned"]["am_only_all"], 4),
        },
        header="# Written by `perception llm finetune --config configs/llm/<its config>.yaml`; "
        "dev = the speech dev split (GER proposals, no acoustic acceptance).\n",
    )
