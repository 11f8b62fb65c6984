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
from typing import Literal

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from perception.config import check
from perception.eval.detection import iou, match_image
from perception.models.store import ModelStore
from perception.vision import recognizer, weights
from perception.vision.api import load_detector
from perception.vision.crops import degrade, region_quad
from perception.vision.languages import load_registry
from perception.vision.mentor import Mentor, MentorConfig
from perception.vision.options import HELD_OUT_LANGUAGES, SEEN_LANGUAGES, VisionOptions
from perception.vision.recognizer import LineRecognizer, line_crop
from perception.vision.render import language_templates
from perception.vision.script_id import ScriptIdNet
from perception.vision.synth import GroundTruth, render_scene

SEEN = SEEN_LANGUAGES


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Scene seeds are scene_seed_start + 0..train_scenes-1 (evaluation seeds
    start at 1_000_000). ``init_from`` continues from a checkpoint (same MentorConfig); with
    ``script_id_steps: 0`` its script-ID baseline is kept as it is. ``data_cache`` (a .npz
    path) keeps the recogniser features of the training crops and templates, so a second run
    (or one on a machine without the fonts, such as a GPU box) skips rendering and embedding; a
    cache made with other data settings is rebuilt.
    ``detector_crops`` adds, per scene, a crop of each PP-OCRv4 detection matched to an annotated
    region (IoU >= 0.5), labelled with that region's language: the boxes MENTOR reads at
    inference hug the ink more tightly than annotation boxes (with the earlier crop CNN, a model
    trained on annotation boxes alone scored 0.84 on them vs 0.66 on detected boxes of the same
    regions). ``degrade_fraction`` of the annotated regions get a camera-degraded copy (blur,
    JPEG, noise, light and glare: :func:`~perception.vision.crops.degrade`). Up to
    ``negatives_per_scene`` crops per scene hold no text; they are "unknown" when the unknown
    logit is fitted.
    ``sampling``: "balanced" draws each episode's languages (and the baseline's batch classes)
    uniformly; "proportional" in proportion to their training crops, as plain empirical risk
    minimisation would see them (the group-imbalance experiment,
    :mod:`perception.vision.imbalance`).
    ``time_budget_s`` > 0 caps MENTOR's steps to what fits in that many seconds, measured on a
    few trial episodes first (the learning-rate schedule then spans the capped run).

    Each episode holds ``episode_languages`` languages x ``crops_per_language`` regions and
    no "unknown" regions. Then, for ``unknown_steps`` more episodes with ``unknown_fraction`` as
    many "unknown" regions (half of left-out seen languages, half without text), only the
    unknown logit is fitted. Training the whole model on such episodes hurt held-out languages:
    accuracy on seen languages held out of meta-training for validation fell from 0.70-0.83 to
    0.43-0.55 (docs/vision.md).
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
    negatives_per_scene: int = 2
    sampling: Literal["balanced", "proportional"] = "balanced"
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
class FeatureSet:
    """Training regions as recogniser features, and each seen language's template features.

    ``negatives`` are features of crops that hold no text (background windows and detector
    boxes matching no annotation): "unknown" targets when the unknown logit is fitted.
    """

    features: torch.Tensor  # (M, F) float32
    labels: np.ndarray  # (M,) int64 index into seen_languages
    by_language: list[np.ndarray]  # row indices per language index
    templates: dict[str, torch.Tensor]  # code → (template_pool, F)
    negatives: torch.Tensor  # (Q, F) float32

    @classmethod
    def of(
        cls, features: torch.Tensor, labels: np.ndarray, templates: dict, negatives: torch.Tensor
    ) -> FeatureSet:
        n = len(templates)
        by_language = [np.flatnonzero(labels == i) for i in range(n)]
        return cls(features, labels, by_language, templates, negatives)


NOT_TEXT = -1  # label of a crop that holds no text


def scene_crops(
    image: np.ndarray,
    regions: list[GroundTruth],
    codes: list[str],
    detector,
    cfg: TrainConfig,
    rng: random.Random,
) -> tuple[list[np.ndarray], list[int]]:
    """One scene's training crops and labels: per annotated region its exact and a jittered
    crop, a camera-degraded copy of ``degrade_fraction`` of them; the detector's boxes matched
    to a region (IoU >= 0.5); and ``negatives_per_scene`` crops without text (detector boxes
    that match nothing, then background windows away from every region), labelled NOT_TEXT."""
    crops, labels = [], []
    kept = [r for r in regions if not r.dont_care]
    for r in kept:
        label = codes.index(r.language)
        exact = line_crop(image, region_quad(r.polygon_px))
        crops += [exact, line_crop(image, _jitter(r.polygon_px, rng))]
        labels += [label, label]
        if rng.random() < cfg.degrade_fraction:
            crops.append(degrade(exact, rng))
            labels.append(label)
    negatives: list[np.ndarray] = []
    if detector is not None:
        found = detector.candidates(image)
        polys = [r.polygon_px for r in regions]
        match = match_image(polys, [r.dont_care for r in regions], [f.polygon_px for f in found])
        for i, j in match.pairs:
            crops.append(line_crop(image, found[j].polygon_px))
            labels.append(codes.index(regions[i].language))
        matched = {j for _, j in match.pairs}
        negatives += [
            line_crop(image, f.polygon_px)
            for j, f in enumerate(found)
            if j not in matched and max((iou(f.polygon_px, p) for p in polys), default=0) < 0.1
        ]
    negatives += _background_windows(image, regions, cfg.negatives_per_scene, rng)
    negatives = negatives[: cfg.negatives_per_scene]
    return crops + negatives, labels + [NOT_TEXT] * len(negatives)


def _jitter(polygon_px, rng: random.Random) -> np.ndarray:
    """The region's box with each corner moved a little, as a detector would box it."""
    quad = region_quad(polygon_px)
    span = max(float(np.ptp(quad[:, 1])), 4.0)
    return quad + np.float32([[rng.uniform(-0.15, 0.15) * span for _ in range(2)] for _ in quad])


def _background_windows(
    image: np.ndarray, regions: list[GroundTruth], count: int, rng: random.Random
) -> list[np.ndarray]:
    """Up to ``count`` line-shaped windows that touch no annotated region."""
    h, w = image.shape[:2]
    taken = np.zeros((h, w), np.uint8)
    for r in regions:
        cv2.fillPoly(taken, [np.round(np.float32(r.polygon_px)).astype(np.int32)], 1)
    out = []
    for _ in range(count * 10):
        bh = rng.randint(12, max(13, h // 8))
        bw = min(w - 2, int(bh * rng.uniform(1.0, 8.0)))
        x, y = rng.randint(0, w - bw - 1), rng.randint(0, h - bh - 1)
        if not taken[y : y + bh, x : x + bw].any():
            out.append(np.ascontiguousarray(image[y : y + bh, x : x + bw]))
        if len(out) == count:
            break
    return out


def template_pools(cfg: TrainConfig, recogniser: LineRecognizer) -> dict[str, torch.Tensor]:
    """Per seen language, the features (P, F) of ``template_pool`` printed templates."""
    registry = load_registry()
    return {
        code: recogniser.embed(
            language_templates(registry[code], cfg.template_pool, "train", cfg.seed)
        ).cpu()  # fmt: skip
        for code in cfg.seen_languages
    }


# Raise when rendering or embedding changes (word rules, scenes, crops, the recogniser cut), so
# old caches are refused. 2: capitals and digits. 3: short regions. 4: 48-px line crops of the
# colour image through the recogniser in one pass, photo backgrounds, camera degradations,
# crops without text.
DATA_VERSION = 4


def _data_key(cfg: TrainConfig, store: ModelStore) -> str:
    """What the features depend on; a cache is only reused when this matches."""
    keys = ("seen_languages", "train_scenes", "languages_per_scene", "size_px", "template_pool",
            "seed", "scene_seed_start", "detector_crops", "degrade_fraction",
            "negatives_per_scene")  # fmt: skip
    recogniser = store.card(recognizer.MODEL_NAME).source.files[0].sha256
    return repr({"version": DATA_VERSION, "recogniser": recogniser,
                 **{k: getattr(cfg, k) for k in keys}})  # fmt: skip


def build_features(cfg: TrainConfig, store: ModelStore, log=print) -> FeatureSet:
    """Render the training scenes and embed their crops (in batches, as scenes come) and the
    templates with the recogniser."""
    rng = random.Random(cfg.seed)
    codes = list(cfg.seen_languages)
    runtime = "onnxruntime" if cfg.device == "cpu" else "torch"
    recogniser = LineRecognizer(store, runtime, cfg.device, cfg.threads)
    detector = _region_detector(cfg, store) if cfg.detector_crops else None
    pending, labels, chunks = [], [], []
    seeds = range(cfg.scene_seed_start, cfg.scene_seed_start + cfg.train_scenes)
    for seed in tqdm(seeds, desc="rendering and embedding", unit="scene", mininterval=5):
        langs = rng.sample(codes, cfg.languages_per_scene)
        image, regions = render_scene(seed, langs, tuple(cfg.size_px), split="train")
        crops, labs = scene_crops(image, regions, codes, detector, cfg, rng)
        pending += crops
        labels += labs
        if len(pending) >= 8 * recognizer.BATCH or seed == seeds[-1]:
            chunks.append(recogniser.embed(pending).cpu())
            pending = []
    features, labels = torch.cat(chunks), np.array(labels, np.int64)
    text = labels != NOT_TEXT
    missing = [c for i, c in enumerate(codes) if not (labels == i).any()]
    if missing:
        raise RuntimeError(f"no training region of {missing}; raise train_scenes")
    log(f"{int(text.sum())} text crops and {int((~text).sum())} without text from "
        f"{cfg.train_scenes} scenes")  # fmt: skip
    templates = template_pools(cfg, recogniser)
    return FeatureSet.of(features[text], labels[text], templates, features[~text])


def _region_detector(cfg: TrainConfig, store: ModelStore | None):
    """The frozen PP-OCRv4 detector (regions only), as inference runs it."""
    options = VisionOptions(detector="ppocr", threads=cfg.threads, read_text=False)
    return load_detector(options, store)


def load_features(cfg: TrainConfig, store: ModelStore | None = None, log=print) -> FeatureSet:
    """The training features: from ``cfg.data_cache`` when it was made with these settings,
    else built (:func:`build_features`) and written there when a cache path is set."""
    store = ModelStore() if store is None else store
    key = _data_key(cfg, store)
    path = Path(cfg.data_cache) if cfg.data_cache else None
    if path is not None and path.is_file():
        with np.load(path) as z:
            if str(z["key"]) == key:
                log(f"loaded training features from {path}")
                templates = {c: torch.from_numpy(z[f"pool_{c}"]) for c in cfg.seen_languages}
                return FeatureSet.of(torch.from_numpy(z["features"]), z["labels"], templates,
                                     torch.from_numpy(z["negatives"]))  # fmt: skip
        log(f"{path} was made with other settings; rebuilding")
    data = build_features(cfg, store, log)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"pool_{c}": t.numpy() for c, t in data.templates.items()}
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, key=key, features=data.features.numpy(), labels=data.labels,
                 negatives=data.negatives.numpy(), **arrays)  # fmt: skip
        tmp.replace(path)
        log(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return data


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
    as many "unknown" regions: of the seen languages left out, and (every second one, when the
    data has them) crops without text."""
    codes = list(cfg.seen_languages)
    ids = _languages(data, cfg, rng, cfg.episode_languages)
    others = [i for i in range(len(codes)) if i not in ids]
    index, targets = [], []
    for j, i in enumerate(ids):
        index += [rng.choice(data.by_language[i]) for _ in range(cfg.crops_per_language)]
        targets += [j] * cfg.crops_per_language
    n_unknown = round(unknown_fraction * len(index))
    negatives = []
    for u in range(n_unknown):
        if u % 2 and len(data.negatives):
            negatives.append(rng.randrange(len(data.negatives)))
        else:
            index.append(rng.choice(data.by_language[rng.choice(others)]))
        targets.append(len(ids))
    k_max = cfg.mentor.templates_per_language
    k = rng.randint(max(2, k_max // 2), k_max)
    pool = len(next(iter(data.templates.values())))
    templates = [data.templates[codes[i]][rng.sample(range(pool), k)] for i in ids]
    features = data.features[torch.from_numpy(np.array(index, np.int64))]
    if negatives:  # the targets list the left-out regions first: all "unknown" alike
        features = torch.cat([features, data.negatives[torch.tensor(negatives)]])
    return Episode(features, torch.tensor(targets), templates, ids)


def _languages(data: FeatureSet, cfg: TrainConfig, rng: random.Random, k: int) -> list[int]:
    """``k`` distinct language indices: uniform, or weighted by their crop counts."""
    n = len(cfg.seen_languages)
    if cfg.sampling == "balanced":
        return rng.sample(range(n), k)
    weights = [len(i) for i in data.by_language]
    picked: list[int] = []
    while len(picked) < k:
        i = rng.choices(range(n), weights)[0]
        if i not in picked:
            picked.append(i)
    return picked


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
    batches (or, with ``sampling: proportional``, batches drawn from all crops alike)."""
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
        if cfg.sampling == "balanced":
            classes = rng.integers(0, n, cfg.script_id_batch)
            idx = np.array([rng.choice(data.by_language[c]) for c in classes])
        else:  # every crop equally likely, as empirical risk minimisation sees the data
            idx = rng.integers(0, len(data.labels), cfg.script_id_batch)
            classes = data.labels[idx]
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
