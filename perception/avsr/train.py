"""Training of the visual side: the landmark model, then the visual speech model on mouth crops
that the trained landmark model cuts from rendered training clips; one checkpoint and its card.

`perception avsr train --config configs/avsr/train.yaml` runs it on CPU (about 15 minutes on
this project's 2-core machine). The training clips come from the speech training split's
commands (:func:`perception.avsr.dataset.train_plan`): no evaluation sentence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from perception.audio import SAMPLE_RATE
from perception.avsr import weights
from perception.avsr.dataset import (
    AvItem,
    frame_labels,
    model_steps,
    render_clip,
    train_plan,
    vocabulary,
)
from perception.avsr.frontend import LandmarkNet, track, train_landmarks
from perception.avsr.model import VisualSpeechNet, pad_batch
from perception.config import check
from perception.models.store import default_home


@dataclass(frozen=True)
class AvTrainConfig:
    """The recipe of both models and where the checkpoint goes."""

    output: str = f"perception/avsr/weights/{weights.DEFAULT_NAME}.pt"
    data_dir: str = ""  # "" = $PERCEPTION_HOME/data/avsr
    seed: int = 0
    landmark_frames: int = 6000
    landmark_epochs: int = 25
    speaking: int = 850  # training clips where the face speaks
    off_camera: int = 113  # training clips where the face is silent and speech plays
    epochs: int = 20
    batch: int = 16
    lr: float = 2e-3
    threads: int = 2

    def __post_init__(self) -> None:
        check(self.speaking > 0 and self.off_camera >= 0, "speaking must be > 0, off_camera >= 0")
        check(self.epochs >= 1 and self.batch >= 1, "epochs and batch must be >= 1")

    @property
    def data(self) -> Path:
        return Path(self.data_dir) if self.data_dir else default_home() / "data" / "avsr"


def crops_for(net: LandmarkNet, frames: np.ndarray, stamps: np.ndarray, duration_s: float):
    """The front end over one clip: 25 Hz mouth track over [0, duration)."""
    steps = model_steps(duration_s)
    return track(net, frames, stamps, start_s=0.0, end_s=steps[-1])


def training_clips(net: LandmarkNet, cfg: AvTrainConfig, vocab: dict[str, int]) -> list[tuple]:
    """(crops, word labels, activity labels) of every training clip, cached by recipe."""
    cache = cfg.data / f"train-crops-seed{cfg.seed}-{cfg.speaking}-{cfg.off_camera}.pt"
    if cache.is_file():
        return torch.load(cache, weights_only=False)
    out = []
    for p in tqdm(train_plan(cfg.seed, cfg.speaking, cfg.off_camera), desc="AV training clips"):
        audio, frames, stamps, (speech_s, words) = render_clip(
            p["text"], p["kind"], p["voice"], p["speed_wpm"], p["fps"], p["style_seed"]
        )
        duration = len(audio) / SAMPLE_RATE
        item = AvItem(
            **p, duration_s=duration, speech_s=speech_s, words=words, audio="", frames=""
        )
        mt = crops_for(net, frames, stamps, duration)
        w, a = frame_labels(item, mt.times_s, vocab)
        out.append((mt.crops, w, a))
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save(out, cache)
    return out


def fit_visual(
    clips: list[tuple], n_words: int, cfg: AvTrainConfig
) -> tuple[VisualSpeechNet, dict]:
    """Train :class:`VisualSpeechNet`; 10% of the clips are held out for the report."""
    rng = np.random.default_rng(cfg.seed)
    order = rng.permutation(len(clips))
    held = [clips[i] for i in order[: len(clips) // 10]]
    train = [clips[i] for i in order[len(clips) // 10 :]]
    torch.manual_seed(cfg.seed)
    net = VisualSpeechNet(n_words)
    opt = torch.optim.AdamW(net.parameters(), cfg.lr, weight_decay=1e-4)
    steps = cfg.epochs * ((len(train) + cfg.batch - 1) // cfg.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=steps)
    ce = nn.CrossEntropyLoss(reduction="none")
    bar = tqdm(total=steps, desc="visual speech model")
    for _ in range(cfg.epochs):
        net.train()
        for idx in np.array_split(
            rng.permutation(len(train)), (len(train) + cfg.batch - 1) // cfg.batch
        ):
            batch = [train[i] for i in idx]
            x, mask = pad_batch([b[0].astype(np.float32) / 255.0 for b in batch])
            w, _ = pad_batch([b[1] for b in batch])
            a, _ = pad_batch([b[2] for b in batch])
            act, words = net(x)
            m = mask.float()
            loss = (
                (ce(words.transpose(1, 2), w) + 0.5 * ce(act.transpose(1, 2), a)) * m
            ).sum() / m.sum()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            sched.step()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    return net, {"heldout_clips": len(held), "train_clips": len(train), **frame_scores(net, held)}


@torch.no_grad()
def frame_scores(net: VisualSpeechNet, clips: list[tuple]) -> dict[str, float]:
    """Per-step accuracy of the word head (on steps inside a word) and of the activity head."""
    net.eval()
    hit_w = n_w = hit_a = n_a = 0
    for crops, w, a in clips:
        act, words = net(torch.from_numpy(crops.astype(np.float32) / 255.0)[None])
        pw, pa = words[0].argmax(-1).numpy(), act[0].argmax(-1).numpy()
        inside = w > 0
        hit_w += int((pw[inside] == w[inside]).sum())
        n_w += int(inside.sum())
        hit_a += int((pa == a).sum())
        n_a += len(a)
    return {
        "heldout_word_step_acc": round(hit_w / max(n_w, 1), 4),
        "heldout_activity_step_acc": round(hit_a / max(n_a, 1), 4),
    }


def train(cfg: AvTrainConfig) -> dict:
    """Both models, the checkpoint and its card; returns the report written into the card."""
    torch.set_num_threads(cfg.threads)
    start = time.time()
    landmarks, lm_report = train_landmarks(cfg.landmark_frames, cfg.landmark_epochs, cfg.seed)
    vocab_list = vocabulary()
    vocab = {w: i for i, w in enumerate(vocab_list)}
    clips = training_clips(landmarks, cfg, vocab)
    visual, v_report = fit_visual(clips, len(vocab_list), cfg)
    report = {
        "landmarks": lm_report,
        "visual": v_report,
        "vocabulary": len(vocab_list),
        "seconds": round(time.time() - start, 1),
        "threads": cfg.threads,
    }
    out = Path(cfg.output)
    weights.save(out, weights.Checkpoint(landmarks, visual, vocab_list, report))
    weights.write_card(out, report)
    return report
