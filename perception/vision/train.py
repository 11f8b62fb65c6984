"""Training MENTOR and the script-ID baseline on synthetic scenes of the seen languages.

Stage 1 (the language-agnostic detector) is the pretrained PP-OCRv4 DB detector, kept frozen:
its features are computed once per training scene and cached, which is what makes training fit a
CPU. Stage 2 is MENTOR's episodic meta-training (Lin et al., IROS 2023, Sec. III-E): each episode
samples languages uniformly from the seen set (balanced sampling), one scene per sampled
language, K templates per language, and supervises one map per language. Text of a language
outside the episode is a negative for every map, which teaches the "unknown" outcome. Held-out
languages never enter: the config check refuses any overlap.
This module does not evaluate (see :mod:`perception.vision.evaluate`).
"""

from __future__ import annotations

import dataclasses
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from perception.config import check
from perception.models.store import ModelStore
from perception.vision import ppocr, weights
from perception.vision.api import HELD_OUT_LANGUAGES, SEEN_LANGUAGES
from perception.vision.languages import load_registry
from perception.vision.mentor import Mentor, MentorConfig
from perception.vision.render import GUIDE_HW_PX, language_templates
from perception.vision.script_id import ScriptIdNet, crop_region
from perception.vision.synth import GroundTruth, render_scene

IGNORE = 255
SEEN = SEEN_LANGUAGES


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Scene seeds are scene_seed_start + 0..train_scenes-1 (evaluation seeds
    start at 1_000_000). ``init_from`` continues from a checkpoint (same MentorConfig); with
    ``script_id_steps: 0`` its script-ID baseline is kept as it is."""

    output: str = "perception/vision/weights/mentor-small.pt"
    seen_languages: tuple[str, ...] = SEEN
    held_out_languages: tuple[str, ...] = HELD_OUT_LANGUAGES
    train_scenes: int = 300
    languages_per_scene: int = 3
    size_px: tuple[int, ...] = (640, 480)
    steps: int = 1200
    episode_languages: int = 6
    crop_cells: int = 64
    learning_rate: float = 2e-3
    template_pool: int = 64
    script_id_steps: int = 1500
    script_id_batch: int = 64
    threads: int = 1
    seed: int = 0
    device: str = "cpu"
    scene_seed_start: int = 0
    init_from: str = ""
    rank_weight: float = 0.0
    mentor: MentorConfig = field(default_factory=MentorConfig)

    def __post_init__(self) -> None:
        overlap = set(self.seen_languages) & set(self.held_out_languages)
        check(not overlap, f"held-out languages {sorted(overlap)} must not be in seen_languages")
        check(
            2 <= self.episode_languages <= len(self.seen_languages),
            f"episode_languages must be in [2, {len(self.seen_languages)}], "
            f"got {self.episode_languages}",
        )
        check(len(self.size_px) == 2, f"size_px must be [width, height], got {self.size_px}")
        check(
            self.scene_seed_start + self.train_scenes <= 1_000_000,
            "training scene seeds must stay below 1_000_000 (evaluation seeds start there); "
            f"got scene_seed_start={self.scene_seed_start}, train_scenes={self.train_scenes}",
        )


@dataclass
class SceneSet:
    """Cached training data: frozen-detector features and stride-4 language label maps."""

    features: torch.Tensor  # (N, 96, h, w) float16
    images: torch.Tensor  # (N, H, W, 3) uint8 RGB, H = 4h
    labels: torch.Tensor  # (N, h, w) uint8: 0 background, 1 + language index, IGNORE
    crops: np.ndarray  # (M, 32, 128) float32 script-ID crops
    crop_labels: np.ndarray  # (M,) int64 language index
    by_language: dict[int, list[int]]  # label value → scenes holding it


def label_map(regions: list[GroundTruth], codes: list[str], hw: tuple[int, int]) -> np.ndarray:
    """Stride-4 label map; don't-care regions are IGNORE so they are neither text nor not."""
    out = np.zeros(hw, np.uint8)
    for r in regions:
        poly = np.round(np.float32(r.polygon_px) / ppocr.STRIDE_PX).astype(np.int32)
        value = IGNORE if r.dont_care or r.language not in codes else codes.index(r.language) + 1
        cv2.fillPoly(out, [poly], int(value))
    return out


def build_scenes(cfg: TrainConfig, backbone: ppocr.OrtBackbone, log=print) -> SceneSet:
    """Render the training scenes, run the frozen detector once on each, keep features."""
    rng = random.Random(cfg.seed)
    codes = list(cfg.seen_languages)
    feats, images, labels, crops, crop_labels = [], [], [], [], []
    t0 = time.time()
    for seed in range(cfg.scene_seed_start, cfg.scene_seed_start + cfg.train_scenes):
        langs = rng.sample(codes, cfg.languages_per_scene)
        image, regions = render_scene(seed, langs, tuple(cfg.size_px), split="train")
        prepared = ppocr.prepare(image, max(cfg.size_px))
        _, feat = backbone(prepared.tensor)
        feats.append(torch.from_numpy(feat[0]).half())
        images.append(torch.from_numpy(image))
        labels.append(torch.from_numpy(label_map(regions, codes, feat.shape[2:])))
        for r in regions:
            if not r.dont_care:
                crops.extend(_jittered_crops(image, r, rng))
                crop_labels.extend([codes.index(r.language)] * 2)
        done = seed - cfg.scene_seed_start + 1
        if done % 50 == 0:
            log(f"scenes {done}/{cfg.train_scenes} ({time.time() - t0:.0f} s)")
    stacked = torch.stack(labels)
    by_language = {
        v: [i for i in range(len(stacked)) if bool((stacked[i] == v).any())]
        for v in range(1, len(codes) + 1)
    }
    return SceneSet(
        torch.stack(feats),
        torch.stack(images),
        stacked,
        np.stack(crops),
        np.array(crop_labels),
        by_language,
    )


def _jittered_crops(image: np.ndarray, r: GroundTruth, rng: random.Random) -> list[np.ndarray]:
    """The exact crop and one with corners moved a little, as a detector would box it."""
    poly = np.float32(r.polygon_px)
    span = max(float(np.ptp(poly[:, 1])), 4.0)
    noisy = poly + np.float32([[rng.uniform(-0.15, 0.15) * span for _ in range(2)] for _ in poly])
    return [crop_region(image, poly), crop_region(image, noisy)]


def template_pools(
    cfg: TrainConfig, backbone: ppocr.OrtBackbone
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Per seen language, a pool of printed templates as frozen-detector features
    (P, 96, h, w) float16 and ink masks (P, 1, h, w), to draw K from each episode."""
    registry = load_registry()
    pools = {}
    for code in cfg.seen_languages:
        ink = language_templates(registry[code], cfg.template_pool, "train", cfg.seed, GUIDE_HW_PX)
        x, cells = ppocr.template_inputs(ink)
        feats = [backbone(x[i : i + 16])[1] for i in range(0, len(x), 16)]
        pools[code] = (
            torch.from_numpy(np.concatenate(feats)).half(),
            torch.from_numpy(x).half(),
            torch.from_numpy(cells),
        )
    return pools


def episode(
    data: SceneSet, cfg: TrainConfig, pools: dict, rng: random.Random
) -> tuple[torch.Tensor, torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]], list[int]]:
    """One episode: (features (B, 96, c, c), labels (B, c, c), templates per language, ids)."""
    codes = list(cfg.seen_languages)
    ids = rng.sample(range(len(codes)), cfg.episode_languages)
    feats, images, labels = [], [], []
    for i in ids:
        index, (y, x) = _scene_with(data, i + 1, rng)
        c, (h, w) = cfg.crop_cells, data.labels.shape[1:]
        y0 = min(max(y - rng.randrange(c), 0), h - c)
        x0 = min(max(x - rng.randrange(c), 0), w - c)
        feats.append(data.features[index, :, y0 : y0 + c, x0 : x0 + c])
        s = ppocr.STRIDE_PX
        images.append(data.images[index, y0 * s : (y0 + c) * s, x0 * s : (x0 + c) * s])
        labels.append(data.labels[index, y0 : y0 + c, x0 : x0 + c])
    k = cfg.mentor.templates_per_language
    templates = []
    for i in ids:
        pick = rng.sample(range(cfg.template_pool), k)
        feat, x, ink = pools[codes[i]]
        templates.append((feat[pick].float(), x[pick].float(), ink[pick]))
    image = torch.from_numpy(ppocr.normalize(torch.stack(images).numpy()))
    return torch.stack(feats).float(), image, torch.stack(labels), templates, ids


def _scene_with(data: SceneSet, value: int, rng: random.Random) -> tuple[int, tuple[int, int]]:
    """A random scene holding language ``value`` and one of its pixels (balanced sampling)."""
    scenes = data.by_language.get(value, [])
    if not scenes:
        raise RuntimeError(
            f"no training scene holds language index {value - 1}; raise train_scenes"
        )
    index = rng.choice(scenes)
    ys, xs = torch.nonzero(data.labels[index] == value, as_tuple=True)
    j = rng.randrange(len(ys))
    return index, (int(ys[j]), int(xs[j]))


def episode_loss(logits: torch.Tensor, labels: torch.Tensor, ids: list[int]) -> torch.Tensor:
    """Balanced BCE: own-language text, background and other-language text weigh equally.

    Args:
        logits: (B, L, h, w); labels: (B, h, w) as in :func:`label_map`; ids: L language indices.
    """
    lab = labels[:, None].long()  # (B, 1, h, w)
    want = torch.tensor(ids)[None, :, None, None] + 1  # (1, L, 1, 1)
    valid = lab != IGNORE
    pos = (lab == want) & valid
    background = (lab == 0) & valid
    other = (lab != want) & (lab != 0) & valid
    bce = F.binary_cross_entropy_with_logits(logits, pos.float(), reduction="none")
    terms = [bce[m.expand_as(bce)].mean() for m in (pos, background, other) if m.any()]
    return torch.stack(terms).mean()


def rank_loss(logits: torch.Tensor, labels: torch.Tensor, ids: list[int]) -> torch.Tensor:
    """Cross-entropy over the episode's maps at text pixels of an episode language.

    Inference names a region by the arg-max over maps; per-map BCE never compares maps, and
    phase-two models were seen to collapse onto a few languages whose maps run high everywhere.
    """
    lab = labels.long()  # (B, h, w)
    lookup = torch.full((256,), -100, dtype=torch.long)
    lookup[torch.tensor(ids) + 1] = torch.arange(len(ids))
    target = lookup[lab]  # (B, h, w): map index, or -100 (ignored)
    if not (target >= 0).any():
        return logits.sum() * 0.0
    return F.cross_entropy(logits, target, ignore_index=-100)


def train_mentor(
    data: SceneSet, pools: dict, cfg: TrainConfig, init: Mentor | None = None, log=print
) -> Mentor:
    """Stage 2: episodic meta-training of guide, mapper and finder on cached features."""
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed + 1 + cfg.scene_seed_start)
    mentor = (init or Mentor(cfg.mentor)).to(cfg.device).train()
    opt = torch.optim.AdamW(mentor.parameters(), cfg.learning_rate, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.learning_rate, total_steps=cfg.steps)
    t0, running = time.time(), 0.0
    for step in range(cfg.steps):
        feats, image, labels, templates, ids = episode(data, cfg, pools, rng)
        dev = cfg.device
        tpl = [tuple(t.to(dev) for t in triple) for triple in templates]
        logits = mentor(feats.to(dev), image.to(dev), tpl)
        loss = episode_loss(logits, labels.to(cfg.device), ids)
        if cfg.rank_weight:
            loss = loss + cfg.rank_weight * rank_loss(logits, labels.to(cfg.device), ids)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running = 0.95 * running + 0.05 * loss.item() if step else loss.item()
        if step % 100 == 0 or step == cfg.steps - 1:
            log(f"mentor step {step}/{cfg.steps} loss {running:.4f} ({time.time() - t0:.0f} s)")
    return mentor.eval()


def train_script_id(
    data: SceneSet, cfg: TrainConfig, init: ScriptIdNet | None = None, log=print
) -> ScriptIdNet:
    """The baseline: a crop classifier over the seen languages, class-balanced batches."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    n = len(cfg.seen_languages)
    net = (init or ScriptIdNet(n)).to(cfg.device).train()
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
    by_class = [np.flatnonzero(data.crop_labels == c) for c in range(n)]
    t0 = time.time()
    for step in range(cfg.script_id_steps):
        classes = rng.integers(0, n, cfg.script_id_batch)
        idx = np.array([rng.choice(by_class[c]) for c in classes])
        x = torch.from_numpy(data.crops[idx])[:, None].to(cfg.device)
        loss = F.cross_entropy(net(x), torch.from_numpy(classes).to(cfg.device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 250 == 0 or step == cfg.script_id_steps - 1:
            log(
                f"script-id step {step}/{cfg.script_id_steps} loss {loss.item():.4f} "
                f"({time.time() - t0:.0f} s)"
            )
    return net.eval()


def train(cfg: TrainConfig, store: ModelStore | None = None, log=print) -> Path:
    """The whole small-config run: scenes → MENTOR → script-ID → one checkpoint."""
    torch.set_num_threads(cfg.threads)
    store = ModelStore() if store is None else store
    t0 = time.time()
    backbone = ppocr.OrtBackbone(store.resolve("ppocr-v4-det"), cfg.threads)
    data = build_scenes(cfg, backbone, log)
    pools = template_pools(cfg, backbone)
    prev = weights.load(Path(cfg.init_from), cfg.device) if cfg.init_from else None
    if prev is not None and prev.seen_languages != list(cfg.seen_languages):
        raise ValueError(
            f"init_from {cfg.init_from} was trained on {prev.seen_languages}, "
            f"this config's seen_languages are {list(cfg.seen_languages)}; make them equal"
        )
    mentor = train_mentor(data, pools, cfg, prev.mentor if prev else None, log)
    script_id = train_script_id(data, cfg, prev.script_id if prev else None, log)
    meta = {
        "train_config": dataclasses.asdict(cfg),
        "train_seconds": round(time.time() - t0),
        "init_meta": prev.meta if prev else {},
    }
    out = Path(cfg.output)
    ckpt = weights.Checkpoint(
        mentor.cpu(), list(cfg.seen_languages), script_id.cpu(), list(cfg.seen_languages), meta
    )
    weights.save(out, ckpt)
    card = weights.write_card(out, cfg.train_scenes, cfg.steps)
    log(f"saved {out} and its card {card} after {time.time() - t0:.0f} s")
    return out
