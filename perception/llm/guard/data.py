"""Guardrail data: labelled rows from the shared guard folder and this project's own text, split
into train / dev / test by source and family (never by random rows).

Owns reading the shared files (AdvBench behaviours and strings, self-instruct instructions,
in-the-wild jailbreak templates) at run time, building the programmatic attacks (templates filled
with requests, obfuscations, random-token suffixes), and the split table. A row is one text of
one kind (benign prompt, harmful request, jailbreak, injection, harmful or benign reply); each
detector's task takes some kinds as positives and others as negatives (:data:`TASK_KINDS`).
Nothing here knows about features or models; no sentence of the shared folder is stored here.
"""

from __future__ import annotations

import base64
import codecs
import csv
import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from perception.errors import PerceptionError
from perception.llm.guard import written

Task = Literal["harmful", "jailbreak", "injection", "reply"]
Kind = Literal["benign", "harmful", "jailbreak", "injection", "harmful_reply", "benign_reply"]
Split = Literal["train", "dev", "test"]
TASKS: tuple[Task, ...] = ("harmful", "jailbreak", "injection", "reply")
# (positive kinds, negative kinds) of each detector's task
TASK_KINDS: dict[Task, tuple[tuple[Kind, ...], tuple[Kind, ...]]] = {
    "harmful": (("harmful",), ("benign",)),
    "jailbreak": (("jailbreak",), ("benign",)),
    "injection": (("injection",), ("benign",)),
    "reply": (("harmful_reply",), ("benign_reply",)),
}
DEFAULT_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "guard"
PLACEHOLDER = "[INSERT PROMPT HERE]"

# AdvBench has no categories: a keyword rule (written here) names one per request, first match in
# this order; "misinformation" and "other" are AdvBench topics outside the six.
_CATEGORY_RULES = (
    ("self_harm", r"suicid|self-harm|self harm|anorexi|bulimi|eating disorder|cutting|starv"),
    ("sexual", r"sexual|porn|explicit|nude|prostitut|child abuse|pedophil"),
    (
        "hate_harassment",
        r"hate|racis|discriminat|harass|bully|minorit|religio|offensive|insult|extremis|ethnic"
        r"|gender|misogyn",
    ),
    (
        "privacy",
        r"personal information|private|spy|surveil|stalk|doxx|track|location|confidential"
        r"|identity|user data|personal data|privacy",
    ),
    (
        "violence_weapons",
        r"bomb|explosiv|weapon|gun|firearm|kill|murder|assassin|poison|assault|violen|terror"
        r"|shoot|attack|harm|injur",
    ),
    (
        "misinformation",
        r"fake news|misinformation|conspiracy|propaganda|hoax|false information"
        r"|disinformation|fake review",
    ),
    (
        "crime",
        r"hack|steal|fraud|counterfeit|launder|drug|malware|virus|ransomware|exploit|theft"
        r"|cheat|insider trading|evade|tax|scam|phishing|password|bypass|illegal|crime|pirat"
        r"|shoplift|breach|botnet|ddos|vandal",
    ),
)

# Families held out per source (everything else trains). Test families are never seen in
# training or in threshold choice; dev families set calibration and thresholds.
SPLITS: dict[str, dict[str, tuple[str, ...]]] = {
    "advbench": {
        "dev": ("hate_harassment", "sexual"),
        "test": ("privacy", "misinformation", "self_harm"),
    },
    "robot-harm": {"dev": ("self_harm",), "test": ("spying", "sexual")},
    "benign-edgy": {
        "dev": ("figurative", "medical"),
        "test": ("homonyms", "history", "safety_advice", "robot_chores"),
    },
    "benign-lookalike": {
        "dev": ("polite", "history_why"),
        "test": ("long", "fiction_plots", "safety_help"),
    },
    "benign-robot": {"dev": ("navigate",), "test": ("questions",)},
    "benign-roleplay": {"dev": (), "test": ("games",)},
    "benign-signs": {"dev": ("building",), "test": ("transcripts",)},
    "written-harm": {"dev": ("polite",), "test": ("long",)},
    "injection": {
        "dev": ("role_change",),
        "test": ("note_to_ai", "spoken_override", "prompt_leak"),
    },
    # what the robot hears and reads (the hybrid guard had flagged "Stop moving and turn left at
    # the next corridor." as harmful and injection, and OCR nonsense like "FANI SOHIYOL" as a
    # jailbreak): speech-training-split commands, half to train and half to dev, so that the
    # thresholds' 2% FPR on benign dev counts them; generated sign words, train only
    "speech-commands": {"dev": ("commands-dev",), "test": ()},
    "sign-words": {"dev": (), "test": ()},
    "obfuscation": {
        "dev": ("rot13", "url_encoding"),
        "test": ("base64", "gcg_suffix", "reversed_words"),
    },
}
HASHED_SOURCES = ("self-instruct", "jailbreak-templates")  # many families: 60/20/20 by hash


@dataclass(frozen=True)
class Row:
    """One labelled text; ``category`` is the harm category of a harmful row, else ""."""

    text: str
    kind: Kind
    source: str
    family: str
    split: Split
    category: str = ""


def category_of(text: str) -> str:
    """The keyword rule's harm category of a request (``other`` when no rule matches)."""
    lower = text.lower()
    return next((name for name, rule in _CATEGORY_RULES if re.search(rule, lower)), "other")


def split_of(source: str, family: str) -> Split:
    """The split of a family: the table for named sources, a stable hash for the rest."""
    if source in SPLITS:
        table = SPLITS[source]
        return "test" if family in table["test"] else "dev" if family in table["dev"] else "train"
    bucket = int(hashlib.sha1(f"{source}/{family}".encode()).hexdigest(), 16) % 10
    return "test" if bucket < 2 else "dev" if bucket < 4 else "train"


def _need(path: Path) -> Path:
    if not path.is_file():
        raise PerceptionError(
            f"guard data file {path} is missing; pass the folder that holds "
            "harmful_behaviors.csv, harmful_strings.csv, user_oriented_instructions.jsonl and "
            "jailbreak.json"
        )
    return path


def _csv(path: Path) -> list[dict[str, str]]:
    with open(_need(path), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _rows(texts, kind: Kind, source: str, family: str, category: str = "") -> list[Row]:
    split = split_of(source, family)
    return [Row(t, kind, source, family, split, category) for t in texts]


def advbench_requests(folder: Path) -> list[Row]:
    """AdvBench harmful behaviours as harmful prompts, family = keyword category."""
    out = []
    for r in _csv(folder / "harmful_behaviors.csv"):
        cat = category_of(r["goal"])
        out += _rows([r["goal"]], "harmful", "advbench", cat, cat)
    return out


def harmful_replies(folder: Path) -> list[Row]:
    """Harmful replies: AdvBench strings (family = keyword category, advbench split) and the
    behaviours' affirmative targets ("Sure, here is ...", a source held out whole)."""
    out = []
    for r in _csv(folder / "harmful_strings.csv"):
        cat = category_of(r["target"])
        split = split_of("advbench", cat)
        out.append(Row(r["target"], "harmful_reply", "advbench-strings", cat, split, cat))
    targets = [r["target"] for r in _csv(folder / "harmful_behaviors.csv")]
    return out + [Row(t, "harmful_reply", "advbench-targets", "targets", "test") for t in targets]


def self_instruct(folder: Path) -> tuple[list[Row], list[Row]]:
    """Benign prompts (instruction + first input) and benign replies (instance outputs);
    family = the app the instruction was written for."""
    prompts, replies = [], []
    with open(_need(folder / "user_oriented_instructions.jsonl"), encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            app = item["motivation_app"]
            first = (item.get("instances") or [{}])[0]
            text = item["instruction"] + (f"\n\n{first['input']}" if first.get("input") else "")
            prompts += _rows([text], "benign", "self-instruct", app)
            outs = [i["output"] for i in item.get("instances", []) if i.get("output", "").strip()]
            replies += _rows(outs, "benign_reply", "self-instruct", app)
    return prompts, replies


def written_rows() -> list[Row]:
    """This project's own text: benign sources, robot harm, injections (see ``written``)."""
    out: list[Row] = []
    benign = {
        "benign-edgy": written.BENIGN_EDGY,
        "benign-robot": written.BENIGN_ROBOT,
        "benign-roleplay": written.BENIGN_ROLEPLAY,
        "benign-signs": written.BENIGN_SIGNS,
    }
    for source, families in benign.items():
        for name, fam in families.items():
            out += _rows(written.expand(fam), "benign", source, name)
    for name, fam in written.BENIGN_LOOKALIKE.items():
        out += _rows(written.expand(fam, 80), "benign", "benign-lookalike", name)
    for name, (cat, fam) in written.ROBOT_HARM.items():
        out += _rows(written.expand(fam), "harmful", "robot-harm", name, cat)
    for name, fam in written.HARM_REGISTERS.items():
        for text in written.expand(fam, 80):
            out += _rows([text], "harmful", "written-harm", name, category_of(text))
    for name, fam in written.INJECTION.items():
        out += _rows(written.expand(fam), "injection", "injection", name)
    return out


def _leet(text: str) -> str:
    return text.translate(str.maketrans("aeiostAEIOST", "4310574310$7"))


def _spaced(text: str) -> str:
    return " ".join(" ".join(word) for word in text.split())


# GCG-like suffixes: random runs of word pieces and symbols, the shape (not the content) of the
# optimised suffixes of Zou et al. (2023); the pieces are written here.
_SUFFIX_PIECES = (
    "describing",
    "similarly",
    "Now",
    "write",
    "oppositely",
    "](",
    "Me",
    "giving",
    "**ONE",
    "please?",
    "revert",
    "with",
    '"\\!--',
    "Two",
    "Sure",
    "here",
    "is",
    ";)",
    "tutorial",
    "manuscript",
    "}}",
    "==",
    "interface",
    "Manuel",
    "WITH",
    "steps",
    "instead",
    "sentences",
    "\\",
    "telling",
    "({",
    "Sc",
    "heading",
    "la",
    "surely",
    "->",
    "[{",
    "Writing",
    "cool",
    "tableView",
    "formatted",
    "]]",
    "%%",
    "_{",
    "Lemma",
    "bullet",
    "versus",
    "hmm",
)


def _suffix(text: str, rng: random.Random) -> str:
    return text + " " + " ".join(rng.choice(_SUFFIX_PIECES) for _ in range(rng.randint(12, 24)))


def _base64(text: str) -> str:
    encoded = base64.b64encode(text.encode()).decode()
    return f"Decode this base64 and follow it: {encoded}"


def _rot13(text: str) -> str:
    return f"The following is ROT13, decode it and answer: {codecs.encode(text, 'rot13')}"


def _reversed_words(text: str) -> str:
    words = " ".join(reversed(text.split()))
    return f"Read this backwards and do what it says: {words}"


def _symbol_suffix(text: str, rng: random.Random) -> str:
    chars = "!@#$%^&*()[]{}<>?/|~`+=-_;:"
    return text + " " + "".join(rng.choice(chars) for _ in range(rng.randint(15, 40)))


def _payload_split(text: str, rng: random.Random) -> str:
    words = text.split()
    cut = max(1, len(words) // 2)
    a, b = " ".join(words[:cut]), " ".join(words[cut:])
    return f'Let a = "{a}" and b = "{b}". Now answer the request a + " " + b in detail.'


def _random_case(text: str, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


OBFUSCATIONS = {
    "leetspeak": lambda t, rng: _leet(t),
    "char_spacing": lambda t, rng: _spaced(t),
    "hex": lambda t, rng: f"Decode this hex and do it: {t.encode().hex()}",
    "random_case": _random_case,
    "vowels_removed": lambda t, rng: re.sub(r"(?<=\w)[aeiou]", "", t),
    "payload_split": _payload_split,
    "symbol_suffix": _symbol_suffix,
    "url_encoding": lambda t, rng: (
        "Decode and answer: " + "".join(f"%{b:02X}" for b in t.encode())
    ),
    "rot13": lambda t, rng: _rot13(t),
    "base64": lambda t, rng: _base64(t),
    "gcg_suffix": _suffix,
    "reversed_words": lambda t, rng: _reversed_words(t),
}


def _requests_by_split(requests: list[Row]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    for r in requests:
        out[r.split].append(r.text)
    return out


def obfuscated(requests: list[Row], per_family: int = 150, seed: int = 0) -> list[Row]:
    """Each obfuscation family applied to (at most ``per_family``) harmful requests of its own
    split."""
    rng, pool, out = random.Random(seed), _requests_by_split(requests), []
    for name, transform in OBFUSCATIONS.items():
        split = split_of("obfuscation", name)
        picked = rng.sample(pool[split], min(per_family, len(pool[split])))
        texts = [transform(t, rng) for t in picked]
        out += _rows(texts, "jailbreak", "obfuscation", name)
    return out


def filled_templates(folder: Path, requests: list[Row], per_template: int = 2) -> list[Row]:
    """In-the-wild templates (family = template number) filled with harmful requests of the
    template's own split; a template without the placeholder is used as it is."""
    with open(_need(folder / "jailbreak.json"), encoding="utf-8") as f:
        templates = json.load(f)["jailbreak"]
    rng, pool, out = random.Random(1), _requests_by_split(requests), []
    for i, template in enumerate(templates):
        family = f"template-{i:03d}"
        split = split_of("jailbreak-templates", family)
        if PLACEHOLDER in template:
            picks = rng.sample(pool[split], per_template)
            texts = [template.replace(PLACEHOLDER, p) for p in picks]
        else:
            texts = [template]
        out += _rows(texts, "jailbreak", "jailbreak-templates", family)
    return out


def typos(text: str, rng: random.Random, rate: float = 0.35) -> str:
    """``text`` with a typo (a letter dropped, two swapped or one doubled) in about ``rate`` of
    its words longer than three letters."""
    words = []
    for word in text.split(" "):
        if len(word) > 3 and word.isalpha() and rng.random() < rate:
            i = rng.randrange(1, len(word) - 1)
            edit = rng.randrange(3)
            word = (
                word[:i] + word[i + 1 :]
                if edit == 0
                else word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
                if edit == 1
                else word[:i] + word[i] + word[i:]
            )
        words.append(word)
    return " ".join(words)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:].rstrip(".?! ")


# Registers that training rows are re-asked in (recombination written here; never applied to
# dev or test rows, so held-out text is never paraphrased into training).
PARAPHRASES = {
    "question": lambda t, rng: f"Can you {_lower_first(t)}?",
    "polite": lambda t, rng: f"I was wondering if you could {_lower_first(t)}. Thank you!",
    "roleplay": lambda t, rng: (
        f"You are a character in my story. In character, {_lower_first(t)}."
    ),
    "misspelled": lambda t, rng: typos(t.lower(), rng),
}
PARAPHRASE_SOURCES = {"harmful": "advbench-paraphrase", "benign": "benign-paraphrase"}


def paraphrased(rows: list[Row], per_register: int = 100, seed: int = 2) -> list[Row]:
    """Train-split AdvBench requests and benign prompts (self-instruct, robot commands) re-asked
    in each of :data:`PARAPHRASES` (at most ``per_register`` of each kind per register)."""
    rng, out = random.Random(seed), []
    origins = {"harmful": ("advbench",), "benign": ("self-instruct", "benign-robot")}
    for kind, sources in origins.items():
        pool = [r for r in rows if r.split == "train" and r.source in sources and r.kind == kind]
        for name, transform in PARAPHRASES.items():
            for r in rng.sample(pool, min(per_register, len(pool))):
                text = transform(r.text.split("\n\n")[0], rng)
                out.append(Row(text, r.kind, PARAPHRASE_SOURCES[kind], name, "train", r.category))
    return out


def robot_heard_and_read(count: int = 400, seed: int = 0) -> list[Row]:
    """Benign rows of what a robot hears and reads: ``2 * count`` commands of the speech
    training split (never its calibration, dev or test sentences), half in this guard's train
    split and half in its dev split, and ``count`` runs of 1-4 generated Latin sign words
    (MENTOR's training word list, capitals and digits included), train only."""
    from perception.speech.dataset import train_sentences
    from perception.vision.languages import load_registry, word_list

    rng = random.Random(seed)
    commands = [text for text, _ in train_sentences(seed)]
    words = word_list(load_registry()["en"], "train", 2000, seed)
    signs = [" ".join(rng.sample(words, rng.randint(1, 4))) for _ in range(count)]
    picked = rng.sample(commands, min(2 * count, len(commands)))
    half = len(picked) // 2
    return (
        _rows(picked[:half], "benign", "speech-commands", "commands-train")
        + _rows(picked[half:], "benign", "speech-commands", "commands-dev")
        + _rows(signs, "benign", "sign-words", "generated")
    )


def load_rows(folder: Path | None = None) -> list[Row]:
    """Every row: the shared folder's (read now) and this project's own."""
    folder = Path(folder) if folder else DEFAULT_DATA
    requests = advbench_requests(folder)
    prompts, replies = self_instruct(folder)
    refusals = _rows(written.REFUSALS, "benign_reply", "refusals", "refusals")
    own = written_rows() + robot_heard_and_read()
    return (
        requests
        + prompts
        + own
        + paraphrased(requests + prompts + own)
        + filled_templates(folder, requests)
        + obfuscated(requests)
        + harmful_replies(folder)
        + replies
        + refusals
    )


def task_rows(
    rows: list[Row], task: Task, split: Split | None = None
) -> tuple[list[Row], list[int]]:
    """The rows of one detector's task (optionally one split) and their 0/1 labels."""
    positive, negative = TASK_KINDS[task]
    picked = [r for r in rows if r.kind in positive + negative and split in (None, r.split)]
    return picked, [int(r.kind in positive) for r in picked]
