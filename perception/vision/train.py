"""Training MENTOR and the script-ID baseline on synthetic scenes of the seen languages.

Stage 1 (the language-agnostic detector) is the pretrained PP-OCRv4 DB detector, kept frozen; it
only proposes regions, so training needs region crops (of annotation boxes, and of its own
detections matched to them). Every crop, and a degraded copy of some, is embedded once by the
frozen PP-OCRv4 recogniser backbone (:mod:`perception.vision.recognizer`), as are the printed
templates; training then runs on those features, so it takes seconds per thousand episodes on a
CPU. Stage 2 is MENTOR's episodic meta-training (Lin et al., IROS 2023, Sec. III-E): each
episode samples languages uniformly from the seen set (balanced sampling), the same number of
regions of each, and a random K of each language's printed templates; the loss is cross-entropy
over the episode's languages and the "unknown" logit, which is never the target there. Afterwards
the "unknown" logit alone is re-fitted on episodes where regions of seen languages left out of
the episode are labelled "unknown". Held-out languages never enter: the config check refuses any
overlap.
This module does not evaluate (see :mod:`perception.vision.evaluate`).
"""

from __future__ import annotations

import dataclasses
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from perception.config import check
from perception.eval.detection import match_image
from perception.models.store import ModelStore
from perception.vision import recognizer, weights
from perception.vision.api import (
    HELD_OUT_LANGUAGES,
    SEEN_LANGUAGES,
    VisionOptions,
    load_detector,
)
from perception.vision.languages import load_registry
from perception.vision.mentor import Mentor, MentorConfig
from perception.vision.recognizer import RegionFeatures, crop_features
from perception.vision.render import template_batch
from perception.vision.script_id import ScriptIdNet, crop_region, grey_image
from perception.vision.synth import GroundTruth, render_scene

SEEN = SEEN_LANGUAGES


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Scene seeds are scene_seed_start + 0..train_scenes-1 (evaluation seeds
    start at 1_000_000). ``init_from`` continues from a checkpoint (same MentorConfig); with
    ``script_id_steps: 0`` its script-ID baseline is kept as it is. ``data_cache`` (a .npz
    path) keeps the rendered crops and templates, so a second run, or one on a machine without
    the fonts (a GPU box), skips rendering; a cache made with other data settings is refused.
    ``detector_crops`` adds, per scene, a crop of each PP-OCRv4 detection matched to an annotated
    region (IoU >= 0.5), labelled with that region's language: the boxes MENTOR reads at
    inference hug the ink more tightly than annotation boxes (with the earlier crop CNN, a model
    trained on annotation boxes alone scored 0.84 on them vs 0.66 on detected boxes of the same
    regions). ``degrade_fraction`` of the training crops get a second, degraded copy (shrunk by
    1.5-4x and enlarged back), like small or blurred text in camera frames (a 2 px blur made
    clean words unreadable to the crop CNN trained without it). The recogniser features of crops
    and templates are cached beside ``data_cache`` (``*.features.npz``).
    ``time_budget_s`` > 0 caps MENTOR's steps to what fits in that many seconds, measured on a
    few trial episodes first (the learning-rate schedule then spans the capped run).

    Each episode holds ``episode_languages`` languages x ``crops_per_language`` regions and
    no "unknown" regions. Then, for ``unknown_steps`` more episodes with ``unknown_fraction`` as
    many regions of left-out seen languages labelled "unknown", only the unknown logit is fitted.
    Training the whole model on such episodes hurt held-out languages: accuracy on seen languages
    held out of meta-training for validation fell from 0.70-0.83 to 0.43-0.55 (README, MENTOR).
    """

    output: str = "perception/vision/weights/mentor-small.pt"
    seen_languages: tuple[str, ...] = SEEN
    held_out_languages: tuple[str, ...] = HELD_OUT_LANGUAGES
    train_scenes: int = 600
    languages_per_scene: int = 3
    size_px: tuple[int, ...] = (640, 480)
    steps: int = 1500
    episode_languages: int = 12
    crops_per_language: int = 6
    unknown_fraction: float = 0.25
    unknown_steps: int = 300
    learning_rate: float = 1e-3
    weight_decay: float = 1e-3
    warmup_fraction: float = 0.05
    template_pool: int = 64
    script_id_steps: int = 1500
    script_id_batch: int = 64
    threads: int = 1
    seed: int = 0
    device: str = "cpu"
    scene_seed_start: int = 0
    init_from: str = ""
    data_cache: str = ""
    detector_crops: bool = True
    degrade_fraction: float = 0.3
    time_budget_s: float = 0.0
    mentor: MentorConfig = field(default_factory=MentorConfig)

    def __post_init__(self) -> None:
        overlap = set(self.seen_languages) & set(self.held_out_languages)
        check(not overlap, f"held-out languages {sorted(overlap)} must not be in seen_languages")
        n = len(self.seen_languages)
        check(
            2 <= self.episode_languages <= n,
            f"episode_languages must be in [2, {n}], got {self.episode_languages}",
        )
        check(
            0.0 <= self.unknown_fraction <= 1.0,
            f"unknown_fraction must be in [0, 1], got {self.unknown_fraction}",
        )
        check(
            self.unknown_fraction == 0.0 or self.episode_languages < n,
            "unknown_fraction > 0 needs episode_languages below the number of seen languages "
            f"({n}): the unknown crops come from the seen languages left out of an episode",
        )
        check(
            0.0 <= self.degrade_fraction <= 1.0,
            f"degrade_fraction must be in [0, 1], got {self.degrade_fraction}",
        )
        check(len(self.size_px) == 2, f"size_px must be [width, height], got {self.size_px}")
        check(
            self.scene_seed_start + self.train_scenes <= 1_000_000,
            "training scene seeds must stay below 1_000_000 (evaluation seeds start there); "
            f"got scene_seed_start={self.scene_seed_start}, train_scenes={self.train_scenes}",
        )


@dataclass
class CropSet:
    """Training regions as rectified crops, before the recogniser embeds them."""

    crops: torch.Tensor  # (M, 32, 128) uint8, 255 = ink
    labels: np.ndarray  # (M,) int64 index into seen_languages


def degrade(crops: torch.Tensor, fraction: float, rng: random.Random) -> torch.Tensor:
    """A random ``fraction`` of crops (N, 1, H, W) shrunk by a factor in [1.5, 4] and enlarged
    back (bilinear, antialiased), then stretched to [0, 1] again as :func:`crop_region` does."""
    out = crops.clone()
    h, w = crops.shape[2:]
    for i in range(len(crops)):
        if rng.random() >= fraction:
            continue
        f = rng.uniform(1.5, 4.0)
        small = F.interpolate(
            crops[i : i + 1], size=(max(4, round(h / f)), max(4, round(w / f))),
            mode="bilinear", antialias=True, align_corners=False,
        )  # fmt: skip
        back = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
        lo, hi = back.min(), back.max()
        out[i] = (back[0] - lo) / (hi - lo).clamp_min(1e-3)
    return out


def build_crops(cfg: TrainConfig, store: ModelStore | None = None, log=print) -> CropSet:
    """Render the training scenes; every annotated (not don't-care) region gives two crops
    (exact and jittered), plus one of its matched detection with ``detector_crops``."""
    rng = random.Random(cfg.seed)
    codes = list(cfg.seen_languages)
    detector = _region_detector(cfg, store) if cfg.detector_crops else None
    crops, labels = [], []
    seeds = range(cfg.scene_seed_start, cfg.scene_seed_start + cfg.train_scenes)
    for seed in tqdm(seeds, desc="rendering training scenes", unit="scene", mininterval=5):
        langs = rng.sample(codes, cfg.languages_per_scene)
        image, regions = render_scene(seed, langs, tuple(cfg.size_px), split="train")
        grey = grey_image(image)  # converted once for all of the scene's crops
        for r in regions:
            if not r.dont_care:
                crops.extend(_jittered_crops(grey, r, rng))
                labels.extend([codes.index(r.language)] * 2)
        if detector is not None:
            found = detector.detect(image)
            match = match_image(
                [r.polygon_px for r in regions],
                [r.dont_care for r in regions],
                [d.polygon_px for d in found],
            )
            for i, j in match.pairs:
                crops.append(crop_region(grey, np.float32(found[j].polygon_px)))
                labels.append(codes.index(regions[i].language))
    stacked = torch.from_numpy(np.round(np.stack(crops) * 255).astype(np.uint8))
    data = CropSet(stacked, np.array(labels))
    missing = [c for i, c in enumerate(codes) if not (data.labels == i).any()]
    if missing:
        raise RuntimeError(f"no training region of {missing}; raise train_scenes")
    log(f"{len(labels)} training crops from {cfg.train_scenes} scenes")
    return data


def _region_detector(cfg: TrainConfig, store: ModelStore | None):
    """The frozen PP-OCRv4 detector (regions only), as inference runs it."""
    return load_detector(VisionOptions(detector="ppocr", threads=cfg.threads), store)


def _jittered_crops(grey: np.ndarray, r: GroundTruth, rng: random.Random) -> list[np.ndarray]:
    """The exact crop of a grey scene (:func:`grey_image`) and one with corners moved a little,
    as a detector would box it."""
    poly = np.float32(r.polygon_px)
    span = max(float(np.ptp(poly[:, 1])), 4.0)
    noisy = poly + np.float32([[rng.uniform(-0.15, 0.15) * span for _ in range(2)] for _ in poly])
    return [crop_region(grey, poly), crop_region(grey, noisy)]


def template_pools(cfg: TrainConfig) -> dict[str, torch.Tensor]:
    """Per seen language, ``template_pool`` printed templates (P, 1, 32, 128) in [0, 1]."""
    registry = load_registry()
    return {
        code: torch.from_numpy(template_batch(registry[code], cfg.template_pool, cfg.seed))
        for code in cfg.seen_languages
    }


# Raise when rendering changes (word rules, scene generator, crops) so old caches are refused.
# 2: capitals and digits in alphabet-script words. 3: short (1-2 character) training regions.
DATA_VERSION = 3


def _data_key(cfg: TrainConfig) -> str:
    """What the rendered data depends on; a cache is only reused when this matches."""
    keys = ("seen_languages", "train_scenes", "languages_per_scene", "size_px", "template_pool",
            "seed", "scene_seed_start", "detector_crops")  # fmt: skip
    return repr({"version": DATA_VERSION, **{k: getattr(cfg, k) for k in keys}})


def load_data(
    cfg: TrainConfig, store: ModelStore | None = None, log=print
) -> tuple[CropSet, dict[str, torch.Tensor]]:
    """Crops and template pools: from ``cfg.data_cache`` when it matches, else rendered (and
    written there when a cache path is set)."""
    path = Path(cfg.data_cache) if cfg.data_cache else None
    if path is not None and path.is_file():
        with np.load(path) as z:
            if str(z["key"]) != _data_key(cfg):
                raise ValueError(
                    f"{path} holds data rendered with other settings ({z['key']}); delete it or "
                    "point data_cache elsewhere"
                )
            data = CropSet(torch.from_numpy(z["crops"]), z["labels"])
            pools = {c: torch.from_numpy(z[f"pool_{c}"]) for c in cfg.seen_languages}
        log(f"loaded {len(data.labels)} crops and templates from {path}")
        return data, pools
    data, pools = build_crops(cfg, store, log), template_pools(cfg)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        arrays = {f"pool_{c}": p.numpy() for c, p in pools.items()}
        np.savez_compressed(
            tmp, key=_data_key(cfg), crops=data.crops.numpy(), labels=data.labels, **arrays
        )
        tmp.replace(path)
        log(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return data, pools


@dataclass
class FeatureSet:
    """Training regions as recogniser features, and each seen language's template features."""

    features: torch.Tensor  # (M, F) float32
    labels: np.ndarray  # (M,) int64 index into seen_languages
    by_language: list[np.ndarray]  # row indices per language index
    templates: dict[str, torch.Tensor]  # code → (template_pool, F)

    @classmethod
    def of(cls, features: torch.Tensor, labels: np.ndarray, templates: dict) -> FeatureSet:
        n = len(templates)
        return cls(features, labels, [np.flatnonzero(labels == i) for i in range(n)], templates)


# Raise when the feature extraction changes (recogniser cut, crop conversion, degraded copies).
FEATURES_VERSION = 1


def load_features(cfg: TrainConfig, store: ModelStore | None = None, log=print) -> FeatureSet:
    """Recogniser features of the training crops (plus degraded copies) and of the template
    pools; cached beside ``data_cache`` and reused while the data and settings match."""
    store = ModelStore() if store is None else store
    recogniser = store.card(recognizer.MODEL_NAME).source.files[0].sha256
    key = repr({"version": FEATURES_VERSION, "data": _data_key(cfg), "seed": cfg.seed,
                "degrade_fraction": cfg.degrade_fraction,
                "recogniser": (recogniser, recognizer.BACKBONE_OUTPUT)})  # fmt: skip
    path = Path(cfg.data_cache).with_suffix(".features.npz") if cfg.data_cache else None
    if path is not None and path.is_file():
        with np.load(path) as z:
            if str(z["key"]) == key:
                log(f"loaded recogniser features from {path}")
                templates = {c: torch.from_numpy(z[f"pool_{c}"]) for c in cfg.seen_languages}
                return FeatureSet.of(torch.from_numpy(z["features"]), z["labels"], templates)
        log(f"{path} was made with other settings; recomputing")
    data, pools = load_data(cfg, store, log)
    runtime = "onnxruntime" if cfg.device == "cpu" else "torch"
    extractor = RegionFeatures(store, runtime, cfg.device, cfg.threads)
    rng = random.Random(cfg.seed + 2)
    chosen = np.array([i for i in range(len(data.labels)) if rng.random() < cfg.degrade_fraction])
    crops = data.crops.float()[:, None] / 255.0
    if len(chosen):
        crops = torch.cat([crops, degrade(crops[torch.from_numpy(chosen)], 1.0, rng)])
    labels = np.concatenate([data.labels, data.labels[chosen] if len(chosen) else []])
    log(f"embedding {len(crops)} crops ({len(chosen)} degraded copies) and the templates")
    features = crop_features(crops, extractor).cpu()
    templates = {c: extractor(p).cpu() for c, p in pools.items()}
    if path is not None:
        arrays = {f"pool_{c}": t.numpy() for c, t in templates.items()}
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, key=key, features=features.numpy(), labels=labels.astype(np.int64), **arrays)
        tmp.replace(path)
        log(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return FeatureSet.of(features, labels.astype(np.int64), templates)


@dataclass(frozen=True)
class Episode:
    features: torch.Tensor  # (N, F)
    targets: torch.Tensor  # (N,) index into ids, or len(ids) for "unknown"
    templates: list[torch.Tensor]  # per episode language, (K, F)
    ids: list[int]  # the episode's seen-language indices


def episode(
    data: FeatureSet, cfg: TrainConfig, rng: random.Random, unknown_fraction: float = 0.0
) -> Episode:
    """Balanced languages, their regions, K in [K/2, K] templates each, and ``unknown_fraction``
    as many regions of the seen languages left out, labelled "unknown"."""
    codes = list(cfg.seen_languages)
    ids = rng.sample(range(len(codes)), cfg.episode_languages)
    others = [i for i in range(len(codes)) if i not in ids]
    index, targets = [], []
    for j, i in enumerate(ids):
        index += [rng.choice(data.by_language[i]) for _ in range(cfg.crops_per_language)]
        targets += [j] * cfg.crops_per_language
    n_unknown = round(unknown_fraction * len(index))
    for _ in range(n_unknown):
        index.append(rng.choice(data.by_language[rng.choice(others)]))
        targets.append(len(ids))
    k_max = cfg.mentor.templates_per_language
    k = rng.randint(max(2, k_max // 2), k_max)
    pool = len(next(iter(data.templates.values())))
    templates = [data.templates[codes[i]][rng.sample(range(pool), k)] for i in ids]
    return Episode(data.features[torch.from_numpy(np.array(index))], torch.tensor(targets),
                   templates, ids)  # fmt: skip


def train_mentor(
    data: FeatureSet, cfg: TrainConfig, init: Mentor | None = None, log=print
) -> tuple[Mentor, int]:
    """Stage 2: episodic meta-training of the shared embedding, guide, mapper and finder (and
    the unknown logit, never a target here), then :func:`fit_unknown_logit`; returns the model
    and the number of meta-training steps."""
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed + 1 + cfg.scene_seed_start)
    mentor = (init or Mentor(cfg.mentor)).to(cfg.device)
    if init is None:
        mentor.embed.scaler.fit(data.features)
    mentor.train()
    steps = cfg.steps
    if cfg.time_budget_s > 0:
        per_step = _seconds_per_step(data, cfg)
        steps = max(1, min(cfg.steps, int(cfg.time_budget_s / per_step)))
        log(f"{per_step * 1e3:.1f} ms per episode: {steps} steps fit in {cfg.time_budget_s:.0f} s")
    learner = _Learner(mentor, cfg, steps)
    t0, running, hits = time.time(), 0.0, []
    for step in tqdm(range(steps), desc="MENTOR episodes", unit="ep", mininterval=5):
        loss, accuracy = learner.step(episode(data, cfg, rng))
        running = 0.95 * running + 0.05 * loss if step else loss
        hits.append(accuracy)
        if step % 250 == 0 or step == steps - 1:
            log(
                f"mentor step {step}/{steps} loss {running:.4f} "
                f"episode accuracy {np.mean(hits[-100:]):.3f} ({time.time() - t0:.0f} s)"
            )
    mentor.eval()
    if cfg.unknown_fraction > 0 and cfg.unknown_steps > 0:
        fit_unknown_logit(mentor, data, cfg, rng, log)
    return mentor, steps


def fit_unknown_logit(
    mentor: Mentor, data: FeatureSet, cfg: TrainConfig, rng: random.Random, log=print
) -> None:
    """Fit only the "unknown" logit, everything else frozen and in eval mode, on episodes where
    regions of left-out seen languages are labelled "unknown": a calibrated reject level that
    leaves the language embedding as meta-training made it."""
    opt = torch.optim.Adam([mentor.unknown_logit], 0.05)
    dev = cfg.device
    for _ in range(cfg.unknown_steps):
        ep = episode(data, cfg, rng, cfg.unknown_fraction)
        with torch.no_grad():
            kernels = mentor.kernels([t.to(dev) for t in ep.templates])
            scores = mentor.finder(mentor.embed(ep.features.to(dev)), kernels)
        unknown = mentor.unknown_logit.expand(len(scores), 1)
        loss = F.cross_entropy(torch.cat([scores, unknown], 1), ep.targets.to(dev))
        opt.zero_grad()
        loss.backward()
        opt.step()
    log(f"unknown logit fitted: {mentor.unknown_logit.item():.3f}")


class _Learner:
    """MENTOR, AdamW and a one-cycle schedule over ``steps``."""

    def __init__(self, mentor: Mentor, cfg: TrainConfig, steps: int) -> None:
        self.mentor, self.cfg = mentor, cfg
        self.opt = torch.optim.AdamW(
            mentor.parameters(), cfg.learning_rate, weight_decay=cfg.weight_decay
        )
        self.sched = torch.optim.lr_scheduler.OneCycleLR(
            self.opt, cfg.learning_rate, total_steps=steps, pct_start=cfg.warmup_fraction
        )

    def step(self, ep: Episode) -> tuple[float, float]:
        """One episode's update; returns (loss, accuracy over the episode's regions)."""
        dev, m = self.cfg.device, self.mentor
        kernels = m.kernels([t.to(dev) for t in ep.templates])
        logits = m(ep.features.to(dev), kernels)
        loss = F.cross_entropy(logits, ep.targets.to(dev))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.sched.step()
        accuracy = float((logits.argmax(1).cpu() == ep.targets).float().mean())
        return loss.item(), accuracy


def _seconds_per_step(data: FeatureSet, cfg: TrainConfig) -> float:
    """Time of one episode, from 10 timed after 5 warm-up ones on a throwaway model."""
    learner, rng = _Learner(Mentor(cfg.mentor).to(cfg.device).train(), cfg, 15), random.Random(-1)
    for _ in range(5):
        learner.step(episode(data, cfg, rng))
    t0 = time.perf_counter()
    for _ in range(10):
        learner.step(episode(data, cfg, rng))
    return (time.perf_counter() - t0) / 10


def train_script_id(
    data: FeatureSet, cfg: TrainConfig, init: ScriptIdNet | None = None, log=print
) -> ScriptIdNet:
    """The baseline: a classifier over the seen languages on the same features, class-balanced
    batches."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    n = len(cfg.seen_languages)
    net = init or ScriptIdNet(n, data.features.shape[1])
    if init is None:
        net.scaler.fit(data.features)
    net = net.to(cfg.device).train()
    opt = torch.optim.AdamW(net.parameters(), cfg.learning_rate, weight_decay=cfg.weight_decay)
    t0 = time.time()
    for step in range(cfg.script_id_steps):
        classes = rng.integers(0, n, cfg.script_id_batch)
        idx = np.array([rng.choice(data.by_language[c]) for c in classes])
        x = data.features[torch.from_numpy(idx)].to(cfg.device)
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
    """The whole run: crops → recogniser features → MENTOR → script-ID → one checkpoint and its
    card."""
    torch.set_num_threads(cfg.threads)
    t0 = time.time()
    data = load_features(cfg, store, log)
    prev = weights.load(Path(cfg.init_from), cfg.device) if cfg.init_from else None
    if prev is not None and prev.seen_languages != list(cfg.seen_languages):
        raise ValueError(
            f"init_from {cfg.init_from} was trained on {prev.seen_languages}, "
            f"this config's seen_languages are {list(cfg.seen_languages)}; make them equal"
        )
    mentor, steps = train_mentor(data, cfg, prev.mentor if prev else None, log)
    script_id = train_script_id(data, cfg, prev.script_id if prev else None, log)
    meta = {
        "train_config": dataclasses.asdict(cfg),
        "train_seconds": round(time.time() - t0),
        "mentor_steps": steps,
        "init_meta": prev.meta if prev else {},
    }
    out = Path(cfg.output)
    ckpt = weights.Checkpoint(
        mentor.cpu(), list(cfg.seen_languages), script_id.cpu(), list(cfg.seen_languages), meta
    )
    weights.save(out, ckpt)
    card = weights.write_card(out, cfg.train_scenes, steps)
    log(f"saved {out} and its card {card} after {time.time() - t0:.0f} s")
    return out
