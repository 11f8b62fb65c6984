"""Our synthetic audio-visual data: a rendered talking face speaking the speech corpus's robot
commands, with the same utterance's audio (espeak-ng voices, which report phoneme times).

Three kinds of clip, for the recogniser and the active-speaker gate:

- ``speaking``: the face on camera says the sentence;
- ``off-camera``: the sentence plays (another person or a loudspeaker) while the face on camera
  stays silent, its mouth only twitching now and then;
- ``silent``: no speech at all, the face silent, only the noise of the recording.

Splits follow the speech data's sentence split (:func:`perception.speech.dataset.split_sentences`
and :func:`~perception.speech.dataset.train_sentences`), commands only (the visual model's
vocabulary is the command language), so no sentence is in two splits. Evaluation splits keep
the camera frames and the clean audio; noise is mixed at evaluation time at each SNR. Everything
is synthetic and deterministic from the seed.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from perception.audio import SAMPLE_RATE
from perception.audio.tts import TimedSpeech, synthesize_timed
from perception.avsr.face import VISEMES, draw_style, mouth_track, render_frame
from perception.avsr.frontend import MODEL_HZ
from perception.speech.corpus import robot_commands
from perception.speech.dataset import (
    ESPEAK_VOICES,
    SPEEDS_WPM,
    VOICES,
    _babble,
    _colored_noise,
    mix_at_snr,
    split_sentences,
    train_sentences,
)

VERSION = 1
PAD_S = 0.4  # silence before and after the speech
FRAME_RATES = (15, 20, 25, 30)
NOISES = ("white", "pink", "babble")
KINDS = ("speaking", "off-camera", "silent")
SNRS_DB: tuple[float | None, ...] = (None, 10.0, 5.0, 0.0, -5.0)  # None = clean
# split: (speaking, off-camera, silent) clips
SPLITS = {"calibration": (40, 10, 6), "dev": (40, 10, 6), "test": (100, 30, 20)}


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation, as the visual vocabulary spells them."""
    return re.findall(r"[a-z]+", text.lower())


def vocabulary() -> list[str]:
    """The command language's words, sorted (index 0 of the model's word head is no-word)."""
    return sorted({w for t in robot_commands() for w in words_of(t)})


@dataclass(frozen=True)
class AvItem:
    """One rendered clip: what is said, by which voice, and what the camera shows."""

    id: str
    split: str
    kind: str  # "speaking", "off-camera" or "silent"
    text: str  # "" for silent clips
    voice: str
    speed_wpm: int
    fps: int
    style_seed: int
    noise: str
    duration_s: float
    speech_s: tuple[float, float]  # first and last speech sound (0, 0 when silent)
    words: tuple[tuple[float, float, str], ...]  # (start, end, word), seconds in the clip
    audio: str  # clean audio, relative to the data root
    frames: str  # camera frames (.npz: frames uint8 (N, H, W, 3), stamps_s (N,)), "" if none

    @property
    def snr_seed(self) -> int:
        return zlib.crc32(self.id.encode())


def _timing(
    speech: TimedSpeech,
) -> tuple[tuple[float, float], tuple[tuple[float, float, str], ...]]:
    sounds = [t for t, p in speech.phonemes if not p.startswith("_")]
    if not sounds:
        return (0.0, 0.0), ()
    pauses = [t for t, p in speech.phonemes if p.startswith("_") and t > sounds[-1]]
    end = pauses[0] if pauses else speech.duration_s
    starts = [t for t, _ in speech.words]
    ends = [*starts[1:], end]
    words = []
    for (start, word), stop in zip(speech.words, ends, strict=True):
        for w in words_of(word):
            words.append((PAD_S + start, PAD_S + stop, w))
    return (PAD_S + sounds[0], PAD_S + end), tuple(words)


def render_clip(text: str, kind: str, voice: str, speed: int, fps: int, style_seed: int):
    """Audio (16 kHz, clean), frames (N, 128, 128, 3), their stamps, and the speech timing."""
    rng = np.random.default_rng(style_seed)
    style = draw_style(rng)
    if kind == "silent":
        audio = np.zeros(int((2 * PAD_S + rng.uniform(1.0, 2.5)) * SAMPLE_RATE), np.float32)
        timing: tuple = ((0.0, 0.0), ())
        phonemes: tuple = ()
    else:
        speech = synthesize_timed(text, VOICES[voice], speed)
        pad = np.zeros(int(PAD_S * SAMPLE_RATE), np.float32)
        audio = np.concatenate([pad, speech.audio, pad])
        timing = _timing(speech)
        phonemes = tuple((PAD_S + t, p) for t, p in speech.phonemes)
    duration = len(audio) / SAMPLE_RATE
    stamps = np.arange(0.0, duration, 1.0 / fps)
    if kind == "speaking":
        shapes = mouth_track(((0.0, "_"), *phonemes), duration, stamps)
    else:
        shapes = _idle_mouth(stamps, rng)
    frames = np.stack(
        [render_frame(style, s, float(t))[0] for s, t in zip(shapes, stamps, strict=True)]
    )
    return audio, frames, stamps, timing


def _idle_mouth(stamps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A silent face: the rest shape, with a brief twitch (a swallow, a smile) now and then."""
    shapes = np.tile(np.array(VISEMES["rest"]), (len(stamps), 1))
    for _ in range(int(rng.integers(0, 3))):
        t0 = rng.uniform(0, stamps[-1] if len(stamps) else 1)
        near = np.abs(stamps - t0) < 0.15
        shapes[near] = (rng.uniform(0.05, 0.3), rng.uniform(0.4, 0.9), rng.uniform(0, 0.5))
    return shapes


def frame_labels(
    item: AvItem, times_s: np.ndarray, vocab: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Per model step: the word being said by the face (vocabulary index + 1, 0 = none) and
    whether the face is speaking (1) or not (0)."""
    words = np.zeros(len(times_s), np.int64)
    active = np.zeros(len(times_s), np.int64)
    if item.kind != "speaking":
        return words, active
    for start, end, w in item.words:
        words[(times_s >= start) & (times_s < end)] = vocab[w] + 1
    active[(times_s >= item.speech_s[0]) & (times_s < item.speech_s[1])] = 1
    return words, active


def _draw(rng: np.random.Generator) -> tuple[str, int, int]:
    voice = ESPEAK_VOICES[rng.integers(len(ESPEAK_VOICES))]
    return (
        voice,
        int(SPEEDS_WPM[rng.integers(len(SPEEDS_WPM))]),
        int(FRAME_RATES[rng.integers(len(FRAME_RATES))]),
    )


def plan_split(
    split: str, sentences: list[str], counts: tuple[int, int, int], seed: int
) -> list[dict]:
    """What each clip of a split is (no rendering): speaking clips take the first sentences,
    off-camera clips the next ones, so each sentence is in one clip."""
    rng = np.random.default_rng(seed)
    n_speak, n_off, n_silent = counts
    plan = []
    kinds = ["speaking"] * n_speak + ["off-camera"] * n_off + ["silent"] * n_silent
    texts = sentences[: n_speak + n_off] + [""] * n_silent
    if len(texts) < len(kinds):
        raise ValueError(f"split {split} needs {n_speak + n_off} sentences, has {len(sentences)}")
    for i, (kind, text) in enumerate(zip(kinds, texts, strict=True)):
        voice, speed, fps = _draw(rng)
        plan.append(
            {
                "id": f"av-{split}-{i:04d}",
                "split": split,
                "kind": kind,
                "text": text,
                "voice": voice,
                "speed_wpm": speed,
                "fps": fps,
                "style_seed": int(rng.integers(2**31)),
                "noise": NOISES[rng.integers(len(NOISES))],
            }
        )
    return plan


def eval_sentences(seed: int) -> dict[str, list[str]]:
    """The speech data's commands per evaluation split (the same sentence split)."""
    return {
        s: [t for t, kind in rows if kind == "command"]
        for s, rows in split_sentences(seed).items()
    }


def build_eval(root: Path, seed: int = 0, limit: int | None = None) -> dict[str, list[AvItem]]:
    """Render calibration / dev / test under ``root`` (skipped when already there); with
    ``limit``, only the first ``limit`` clips of each kind (keep those in another folder)."""
    root = Path(root)
    stamp = root / "dataset.json"
    want = {"version": VERSION, "seed": seed, "limit": limit}
    if stamp.is_file() and json.loads(stamp.read_text()) == want:
        return load_eval(root)
    out = {}
    sentences = eval_sentences(seed)
    for i, (split, counts) in enumerate(SPLITS.items()):
        (root / split).mkdir(parents=True, exist_ok=True)
        items = []
        plan = plan_split(split, sentences[split], counts, seed * 100 + i)
        if limit is not None:
            plan = [p for k in KINDS for p in [q for q in plan if q["kind"] == k][:limit]]
        for p in tqdm(plan, desc=f"AV {split}"):
            audio, frames, stamps, (speech_s, words) = render_clip(
                p["text"], p["kind"], p["voice"], p["speed_wpm"], p["fps"], p["style_seed"]
            )
            wav, npz = root / split / f"{p['id']}.wav", root / split / f"{p['id']}.npz"
            sf.write(wav, audio, SAMPLE_RATE, subtype="PCM_16")
            np.savez_compressed(npz, frames=frames, stamps_s=stamps)
            items.append(
                AvItem(
                    **p,
                    duration_s=len(audio) / SAMPLE_RATE,
                    speech_s=speech_s,
                    words=words,
                    audio=str(wav.relative_to(root)),
                    frames=str(npz.relative_to(root)),
                )
            )
        (root / f"{split}.jsonl").write_text(
            "".join(json.dumps(asdict(it)) + "\n" for it in items)
        )
        out[split] = items
    stamp.write_text(json.dumps(want))
    return out


def _item(row: dict) -> AvItem:
    row["speech_s"] = tuple(row["speech_s"])
    row["words"] = tuple(tuple(w) for w in row["words"])
    return AvItem(**row)


def load_eval(root: Path) -> dict[str, list[AvItem]]:
    return {
        s: [
            _item(json.loads(line))
            for line in (Path(root) / f"{s}.jsonl").read_text().splitlines()
        ]
        for s in SPLITS
    }


def train_plan(seed: int, speaking: int, off_camera: int) -> list[dict]:
    """Training clips from the speech training split's commands (no evaluation sentence)."""
    commands = [t for t, kind in train_sentences(seed) if kind == "command"]
    np.random.default_rng(seed + 2000).shuffle(commands)
    return plan_split("train", commands, (speaking, off_camera, 0), seed + 2001)


def noisy_audio(clean: np.ndarray, item: AvItem, snr_db: float | None) -> np.ndarray:
    """The clip's audio at ``snr_db`` (None: clean) with its own noise, the same for every
    method and run."""
    if snr_db is None:
        return clean
    rng = np.random.default_rng([item.snr_seed, int(snr_db * 10) + 100])
    if item.noise == "babble":
        noise = _babble(len(clean), rng)
    else:
        noise = _colored_noise(len(clean), item.noise, rng)
    if item.kind == "silent":  # no speech to set the level by: noise at a fixed level
        return (noise / (np.abs(noise).max() + 1e-9) * 0.1).astype(np.float32)
    return mix_at_snr(clean, noise, snr_db)


def model_steps(duration_s: float) -> np.ndarray:
    return np.arange(0.0, duration_s, 1.0 / MODEL_HZ)
