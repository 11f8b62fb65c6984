"""Our noisy speech data: sentences rendered with espeak-ng and flite in several voices and
speeds, degraded as real recordings are (speed perturbation, room reverberation, a far-away
talker, a clipped microphone), mixed with noise at several signal-to-noise ratios, and split into
calibration / dev / test.

Owns rendering, degrading, mixing, the split (by sentence: no sentence is in two splits), the
manifest format, and the training split (sentences in none of the three). Deterministic from a
seed: the same seed and espeak-ng / flite versions give the same files. Every clip is
synthetic; real recordings judge the methods elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from perception.audio import SAMPLE_RATE, load_audio
from perception.audio.effects import (
    clip,
    far_field,
    reverberate,
    room_impulse_response,
    speed_perturb,
)
from perception.audio.tts import synthesize
from perception.speech.corpus import GENERAL, TRAIN_GENERAL, babble_sentences, robot_commands

VERSION = 2
VOICES = {
    "us": "en-us",
    "gb-female": "en-gb+f3",
    "scotland": "en-gb-scotland",
    "caribbean": "en-029",
    "nyc": "en-us-nyc",
    # flite's voices are built from CMU ARCTIC recordings of real speakers
    "flite-slt": "flite:slt",
    "flite-rms": "flite:rms",
    "flite-awb": "flite:awb",
    "flite-kal": "flite:kal16",
}
ESPEAK_VOICES = ("us", "gb-female", "scotland", "caribbean", "nyc")  # babble talkers
SPEEDS_WPM = (140, 170, 200)
PERTURB = ((0.9, 0.25), (1.0, 0.5), (1.1, 0.25))  # speed perturbation factor, probability
# (noise type, SNR in dB); None = clean.
CONDITIONS = (
    ("clean", None),
    ("white", 10.0),
    ("white", 5.0),
    ("pink", 5.0),
    ("pink", 0.0),
    ("babble", 10.0),
    ("babble", 5.0),
)
EFFECTS = (("none", 0.4), ("reverb", 0.25), ("far-field", 0.2), ("clipped", 0.15))
# The open-text training split (GER adapter): conditions near the real recordings', where
# Whisper gets most words right and the N-best differs in a few, so that many targets are a
# copy of the best hypothesis.
MILD_CONDITIONS = (
    ("clean", None),
    ("clean", None),
    ("white", 25.0),
    ("pink", 20.0),
    ("babble", 20.0),
)
MILD_EFFECTS = (("none", 0.6), ("reverb", 0.25), ("far-field", 0.15))
SPLITS = {"calibration": (60, 20), "dev": (60, 20), "test": (150, 50)}  # (commands, general)


@dataclass(frozen=True)
class Item:
    """One rendered utterance and the groups it belongs to."""

    id: str
    split: str
    text: str
    kind: str  # "command" or "general"
    voice: str
    speed_wpm: int
    noise: str
    snr_db: float | None
    path: str
    perturb: float = 1.0  # speed perturbation factor
    effect: str = "none"  # "none", "reverb", "far-field" or "clipped"

    @property
    def snr_group(self) -> str:
        return "clean" if self.snr_db is None else f"{self.snr_db:g} dB"

    @property
    def speed_group(self) -> str:
        """Effective speaking rate: slow (< 150 wpm), normal, fast (> 190 wpm)."""
        rate = self.speed_wpm * self.perturb
        return "slow" if rate < 150 else "fast" if rate > 190 else "normal"


def split_sentences(seed: int) -> dict[str, list[tuple[str, str]]]:
    """(text, kind) per split; every sentence is in exactly one split."""
    rng = np.random.default_rng(seed)
    commands = robot_commands()
    general = list(GENERAL)
    rng.shuffle(commands)
    rng.shuffle(general)
    out, c0, g0 = {}, 0, 0
    for split, (n_cmd, n_gen) in SPLITS.items():
        out[split] = [(t, "command") for t in commands[c0 : c0 + n_cmd]] + [
            (t, "general") for t in general[g0 : g0 + n_gen]
        ]
        c0, g0 = c0 + n_cmd, g0 + n_gen
    return out


def train_sentences(seed: int) -> list[tuple[str, str]]:
    """(text, kind) of the training split: every command in no evaluation split, the general
    sentences left over, and :data:`TRAIN_GENERAL` (written for training only)."""
    used = {t for rows in split_sentences(seed).values() for t, _ in rows}
    commands = [(t, "command") for t in robot_commands() if t not in used]
    general = [(t, "general") for t in list(GENERAL) + TRAIN_GENERAL if t not in used]
    return commands + general


def _colored_noise(n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(n)
    if kind == "white":
        return white
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(n)
    spectrum[1:] /= np.sqrt(freqs[1:])  # pink: power falls as 1/f
    return np.fft.irfft(spectrum, n)


def _babble(n: int, rng: np.random.Generator, talkers: int = 3) -> np.ndarray:
    sentences = babble_sentences()
    out = np.zeros(n)
    for _ in range(talkers):
        voice = VOICES[ESPEAK_VOICES[rng.integers(len(ESPEAK_VOICES))]]
        speech = synthesize(sentences[rng.integers(len(sentences))], voice=voice)
        reps = int(np.ceil(n / len(speech)))
        out += np.roll(np.tile(speech, reps)[:n], rng.integers(n))
    return out


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """speech + noise scaled so that 10·log10(P_speech / P_noise) = snr_db; peak kept < 1."""
    p_speech = np.mean(speech.astype(np.float64) ** 2)
    p_noise = np.mean(noise.astype(np.float64) ** 2) + 1e-12
    mixed = speech + noise * np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    peak = np.abs(mixed).max()
    return (mixed / peak * 0.9 if peak > 0.99 else mixed).astype(np.float32)


@dataclass(frozen=True)
class Recipe:
    """How one utterance is rendered (drawn per item from the data set's seed)."""

    voice: str
    speed_wpm: int
    perturb: float
    effect: str
    noise: str
    snr_db: float | None


def _choice(rng: np.random.Generator, weighted: tuple) -> object:
    values, probs = zip(*weighted, strict=True)
    return values[rng.choice(len(values), p=np.array(probs) / sum(probs))]


def draw_recipe(
    rng: np.random.Generator, conditions: tuple = CONDITIONS, effects: tuple = EFFECTS
) -> Recipe:
    voice = list(VOICES)[rng.integers(len(VOICES))]
    speed = int(SPEEDS_WPM[rng.integers(len(SPEEDS_WPM))])
    perturb = float(_choice(rng, PERTURB))
    effect = str(_choice(rng, effects))
    noise, snr = conditions[rng.integers(len(conditions))]
    return Recipe(voice, speed, perturb, effect, noise, snr)


def render(text: str, recipe: Recipe, rng: np.random.Generator) -> np.ndarray:
    """Synthesise, perturb the speed, apply the room, pad 0.25 s, add noise, then clip."""
    speech = synthesize(text, voice=VOICES[recipe.voice], speed_wpm=recipe.speed_wpm)
    if recipe.perturb != 1.0:
        speech = speed_perturb(speech, recipe.perturb)
    if recipe.effect == "reverb":
        speech = reverberate(speech, room_impulse_response(rng.uniform(0.2, 0.6), rng))
    elif recipe.effect == "far-field":
        speech = far_field(speech, rng)
    pad = np.zeros(int(0.25 * SAMPLE_RATE), np.float32)
    speech = np.concatenate([pad, speech, pad])
    if recipe.snr_db is not None:
        noise = (
            _babble(len(speech), rng)
            if recipe.noise == "babble"
            else _colored_noise(len(speech), recipe.noise, rng)
        )
        speech = mix_at_snr(speech, noise, recipe.snr_db)
    return clip(speech) if recipe.effect == "clipped" else speech.astype(np.float32)


def _render_split(
    root: Path,
    split: str,
    sentences: list[tuple[str, str]],
    rng: np.random.Generator,
    mild: bool = False,
) -> list[Item]:
    """Render ``sentences`` into ``root/split`` and write ``root/split.jsonl`` (``mild``: the
    recipes of :data:`MILD_CONDITIONS` and :data:`MILD_EFFECTS`)."""
    (root / split).mkdir(parents=True, exist_ok=True)
    items = []
    for i, (text, kind) in enumerate(tqdm(sentences, desc=f"rendering {split}")):
        r = draw_recipe(rng, MILD_CONDITIONS, MILD_EFFECTS) if mild else draw_recipe(rng)
        path = root / split / f"{split}-{i:04d}.wav"
        sf.write(path, render(text, r, rng), SAMPLE_RATE, subtype="PCM_16")
        rel = str(path.relative_to(root))
        items.append(
            Item(
                path.stem,
                split,
                text,
                kind,
                r.voice,
                r.speed_wpm,
                r.noise,
                r.snr_db,
                rel,
                r.perturb,
                r.effect,
            )
        )
    (root / f"{split}.jsonl").write_text(
        "".join(json.dumps(asdict(it)) + "\n" for it in items), encoding="utf-8"
    )
    return items


def build_dataset(root: Path, seed: int = 0) -> dict[str, list[Item]]:
    """Render every evaluation split under ``root`` (skipped when the manifest for this seed
    exists)."""
    root = Path(root)
    stamp = root / "dataset.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == {"version": VERSION, "seed": seed}:
        return load_dataset(root)
    rng = np.random.default_rng(seed + 1)
    items = {
        split: _render_split(root, split, sentences, rng)
        for split, sentences in split_sentences(seed).items()
    }
    stamp.write_text(json.dumps({"version": VERSION, "seed": seed}))
    return items


def build_train_split(root: Path, seed: int = 0, limit: int | None = None) -> list[Item]:
    """Render the training split (:func:`train_sentences`, first ``limit`` after a seeded
    shuffle) under ``root/train`` with recipes drawn from their own generator, so no clip shares
    a sentence or a recipe draw with calibration / dev / test; skipped when rendered already."""

    def render() -> list[Item]:
        sentences = train_sentences(seed)
        np.random.default_rng(seed + 1000).shuffle(sentences)
        rng = np.random.default_rng(seed + 1001)
        return _render_split(Path(root), "train", sentences[:limit], rng)

    return _stamped(
        Path(root), "train", {"version": VERSION, "seed": seed, "limit": limit}, render
    )


def _stamped(root: Path, split: str, want: dict, render) -> list[Item]:
    """``root/split.jsonl`` when ``root/split.json`` records ``want``; else ``render()`` and
    record it."""
    stamp = root / f"{split}.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == want:
        lines = (root / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        return [Item(**json.loads(line)) for line in lines]
    items = render()
    stamp.write_text(json.dumps(want))
    return items


def open_sentences(seed: int, count: int) -> list[tuple[str, str]]:
    """(text, source) for the open-text training split: ``count`` sentences, 40% fortunes,
    35% WordNet examples, 25% robot commands of the training split; none is in the
    calibration, dev or test split."""
    from perception.speech.open_text import fortune_sentences, wordnet_sentences

    used = {t for rows in split_sentences(seed).values() for t, _ in rows}
    rng = np.random.default_rng(seed + 2000)
    pools = {
        "fortune": (fortune_sentences(), 0.40),
        "wordnet": (wordnet_sentences(), 0.35),
        "command": ([t for t, k in train_sentences(seed) if k == "command"], 0.25),
    }
    out = []
    for source, (pool, share) in pools.items():
        pool = [t for t in pool if t not in used]
        picks = rng.choice(len(pool), size=min(len(pool), round(share * count)), replace=False)
        out += [(pool[i], source) for i in picks]
    rng.shuffle(out)
    return out


def build_open_split(root: Path, seed: int = 0, count: int = 1600) -> list[Item]:
    """Render :func:`open_sentences` under ``root/open`` with the mild recipes (their own
    generator); skipped when rendered already for this seed and count."""

    def render() -> list[Item]:
        rng = np.random.default_rng(seed + 2001)
        return _render_split(Path(root), "open", open_sentences(seed, count), rng, mild=True)

    return _stamped(Path(root), "open", {"version": VERSION, "seed": seed, "count": count}, render)


def load_dataset(root: Path) -> dict[str, list[Item]]:
    """Read the manifests written by :func:`build_dataset`."""
    out = {}
    for split in SPLITS:
        lines = (Path(root) / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        out[split] = [Item(**json.loads(line)) for line in lines]
    return out


def load_item_audio(root: Path, item: Item) -> np.ndarray:
    return load_audio(Path(root) / item.path)
