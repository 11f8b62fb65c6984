"""Our noisy speech data: sentences rendered with espeak-ng in several voices and speeds, mixed
with noise at several signal-to-noise ratios, split into calibration / dev / test.

Owns rendering, mixing, the split (by sentence: no sentence is in two splits) and the manifest
format. Deterministic from a seed: the same seed and espeak-ng version give the same files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from perception.audio import SAMPLE_RATE, load_audio
from perception.audio.tts import synthesize
from perception.speech.corpus import GENERAL, babble_sentences, robot_commands

VERSION = 1
VOICES = {
    "us": "en-us",
    "gb-female": "en-gb+f3",
    "scotland": "en-gb-scotland",
    "caribbean": "en-029",
    "nyc": "en-us-nyc",
}
SPEEDS_WPM = (140, 170, 200)
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
SPLITS = {"calibration": (40, 20), "dev": (40, 20), "test": (80, 20)}  # (commands, general)


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

    @property
    def snr_group(self) -> str:
        return "clean" if self.snr_db is None else f"{self.snr_db:g} dB"


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
        voice = list(VOICES.values())[rng.integers(len(VOICES))]
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


def _render(
    text: str, voice: str, speed: int, noise: str, snr: float | None, rng: np.random.Generator
) -> np.ndarray:
    speech = synthesize(text, voice=voice, speed_wpm=speed)
    pad = np.zeros(int(0.25 * SAMPLE_RATE), np.float32)
    speech = np.concatenate([pad, speech, pad])
    if snr is None:
        return speech
    noise_signal = (
        _babble(len(speech), rng) if noise == "babble" else _colored_noise(len(speech), noise, rng)
    )
    return mix_at_snr(speech, noise_signal, snr)


def build_dataset(root: Path, seed: int = 0) -> dict[str, list[Item]]:
    """Render every split under ``root`` (skipped when the manifest for this seed exists)."""
    root = Path(root)
    stamp = root / "dataset.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == {"version": VERSION, "seed": seed}:
        return load_dataset(root)
    rng = np.random.default_rng(seed + 1)
    voices, conditions = list(VOICES.items()), list(CONDITIONS)
    items: dict[str, list[Item]] = {}
    for split, sentences in split_sentences(seed).items():
        (root / split).mkdir(parents=True, exist_ok=True)
        items[split] = []
        for i, (text, kind) in enumerate(tqdm(sentences, desc=f"rendering {split}")):
            voice_group, voice = voices[rng.integers(len(voices))]
            speed = int(SPEEDS_WPM[rng.integers(len(SPEEDS_WPM))])
            noise, snr = conditions[rng.integers(len(conditions))]
            path = root / split / f"{split}-{i:04d}.wav"
            sf.write(
                path, _render(text, voice, speed, noise, snr, rng), SAMPLE_RATE, subtype="PCM_16"
            )
            items[split].append(
                Item(
                    path.stem,
                    split,
                    text,
                    kind,
                    voice_group,
                    speed,
                    noise,
                    snr,
                    str(path.relative_to(root)),
                )
            )
        (root / f"{split}.jsonl").write_text(
            "".join(json.dumps(asdict(it)) + "\n" for it in items[split]), encoding="utf-8"
        )
    stamp.write_text(json.dumps({"version": VERSION, "seed": seed}))
    return items


def load_dataset(root: Path) -> dict[str, list[Item]]:
    """Read the manifests written by :func:`build_dataset`."""
    out = {}
    for split in SPLITS:
        lines = (Path(root) / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        out[split] = [Item(**json.loads(line)) for line in lines]
    return out


def load_item_audio(root: Path, item: Item) -> np.ndarray:
    return load_audio(Path(root) / item.path)
