import dataclasses
import random

import numpy as np
import pytest
import torch

from perception.config import from_dict
from perception.errors import ConfigError
from perception.vision import weights
from perception.vision.mentor import MentorConfig
from perception.vision.train import FeatureSet, TrainConfig, episode, train

TINY_MENTOR = MentorConfig(embed_dim=8, templates_per_language=4)


def test_held_out_languages_cannot_be_trained_on():
    with pytest.raises(ConfigError, match="held-out"):
        from_dict(
            TrainConfig,
            {"seen_languages": ["en", "ml"], "held_out_languages": ["ml"], "episode_languages": 2},
        )


def test_unknown_crops_need_languages_outside_the_episode():
    with pytest.raises(ConfigError, match="unknown_fraction"):
        TrainConfig(seen_languages=("en", "ar"), episode_languages=2, unknown_fraction=0.5)


def _feature_set(codes: tuple[str, ...], per: int = 5) -> FeatureSet:
    # every row and template of language i holds the value i, so rows can be traced
    labels = np.repeat(np.arange(len(codes)), per)
    features = torch.from_numpy(np.repeat(labels, 6).reshape(-1, 6).astype(np.float32))
    templates = {c: torch.full((6, 6), float(i)) for i, c in enumerate(codes)}
    return FeatureSet.of(features, labels, templates, torch.full((3, 6), -1.0))


def test_episode_is_balanced_and_labels_left_out_languages_unknown():
    codes = ("en", "ar", "zh", "ru", "el")
    cfg = TrainConfig(
        seen_languages=codes, held_out_languages=("ml",), episode_languages=3,
        crops_per_language=4, unknown_fraction=0.5, template_pool=6, mentor=TINY_MENTOR,
    )  # fmt: skip
    ep = episode(_feature_set(codes), cfg, random.Random(0), cfg.unknown_fraction)
    assert len(ep.ids) == 3 and ep.features.shape == (18, 6)
    language = ep.features[:, 0].long()
    for j, i in enumerate(ep.ids):
        assert (language[ep.targets == j] == i).all() and int((ep.targets == j).sum()) == 4
    unknown = language[ep.targets == 3]
    assert len(unknown) == 6 and not set(unknown.tolist()) & set(ep.ids)
    assert (unknown == -1).sum() == 3  # every second "unknown" region holds no text
    assert all(2 <= len(t) <= 4 for t in ep.templates)
    assert [int(t[0, 0]) for t in ep.templates] == ep.ids


@pytest.mark.model
def test_tiny_run_writes_a_loadable_checkpoint(tmp_path, store):
    cfg = TrainConfig(
        output=str(tmp_path / "tiny.pt"),
        seen_languages=("en", "ar", "zh"),
        held_out_languages=("ml",),
        train_scenes=6,
        languages_per_scene=2,
        size_px=(256, 192),
        steps=3,
        episode_languages=2,
        crops_per_language=2,
        template_pool=6,
        script_id_steps=3,
        script_id_batch=4,
        mentor=TINY_MENTOR,
    )
    path = train(cfg, store, log=lambda _: None)
    ckpt = weights.load(path)
    assert ckpt.seen_languages == ["en", "ar", "zh"] and ckpt.meta["train_config"]["steps"] == 3
    assert "ml" not in ckpt.seen_languages
    assert (tmp_path / "tiny.yaml").is_file()
    # the scalers were fitted on the recogniser features, not left at identity
    assert not torch.equal(
        ckpt.mentor.embed.scaler.std, torch.ones_like(ckpt.mentor.embed.scaler.std)
    )
    assert torch.equal(ckpt.script_id.scaler.mean, ckpt.mentor.embed.scaler.mean)


class _FakeStore:
    def __init__(self, sha: str) -> None:
        self.sha = sha

    def card(self, name: str):
        file = type("F", (), {"sha256": self.sha})()
        return type("C", (), {"source": type("S", (), {"files": [file]})()})()


def test_features_are_cached_and_rebuilt_when_settings_change(tmp_path, monkeypatch):
    from perception.vision import train as train_mod

    codes = ("en", "ar", "zh")
    built = []

    def fake_build(cfg, store, log):
        built.append(cfg.degrade_fraction)
        labels = np.repeat(np.arange(3), 4)
        features = torch.arange(12.0)[:, None].repeat(1, 4) + 10 * len(built)
        templates = {c: torch.full((6, 4), float(i)) for i, c in enumerate(codes)}
        return FeatureSet.of(features, labels, templates, torch.zeros(2, 4))

    monkeypatch.setattr(train_mod, "build_features", fake_build)
    cfg = TrainConfig(seen_languages=codes, held_out_languages=("ml",), episode_languages=2,
                      data_cache=str(tmp_path / "d.npz"), degrade_fraction=0.0)  # fmt: skip
    quiet = {"log": lambda _: None}
    first = train_mod.load_features(cfg, _FakeStore("a"), **quiet)
    assert built == [0.0] and first.features.shape == (12, 4) and len(first.negatives) == 2
    again = train_mod.load_features(cfg, _FakeStore("a"), **quiet)
    assert built == [0.0] and torch.equal(again.features, first.features)
    assert [len(i) for i in again.by_language] == [4, 4, 4]
    train_mod.load_features(cfg, _FakeStore("b"), **quiet)  # another recogniser file
    assert len(built) == 2
    train_mod.load_features(
        dataclasses.replace(cfg, degrade_fraction=1.0), _FakeStore("b"), **quiet
    )
    assert built == [0.0, 0.0, 1.0]


def test_scene_crops_label_regions_and_add_crops_without_text():
    from perception.vision.synth import render_scene
    from perception.vision.train import NOT_TEXT, scene_crops

    cfg = TrainConfig(
        seen_languages=("en", "ar", "zh"), held_out_languages=("ml",), episode_languages=2,
        degrade_fraction=1.0, negatives_per_scene=2,
    )  # fmt: skip
    image, regions = render_scene(3, ["en", "ar"], (320, 240), split="train")
    crops, labels = scene_crops(image, regions, list(cfg.seen_languages), None, cfg,
                                random.Random(0))  # fmt: skip
    care = [r for r in regions if not r.dont_care]
    assert labels.count(NOT_TEXT) <= 2 and len(labels) == 3 * len(care) + labels.count(NOT_TEXT)
    assert all(c.ndim == 3 and c.shape[2] == 3 and c.dtype == np.uint8 for c in crops)
    assert set(labels) - {NOT_TEXT} <= {0, 1}


def test_fitting_the_unknown_logit_changes_nothing_else():
    from perception.vision.mentor import Mentor
    from perception.vision.train import fit_unknown_logit

    codes = ("en", "ar", "zh", "ru", "el")
    cfg = TrainConfig(seen_languages=codes, held_out_languages=("ml",), episode_languages=3,
                      crops_per_language=4, unknown_fraction=0.5, unknown_steps=20,
                      template_pool=6, mentor=MentorConfig(feature_dim=6, embed_dim=4,
                                                           templates_per_language=4))  # fmt: skip
    torch.manual_seed(0)
    mentor = Mentor(cfg.mentor).eval()
    before = {k: v.clone() for k, v in mentor.state_dict().items()}
    fit_unknown_logit(mentor, _feature_set(codes), cfg, random.Random(0), log=lambda _: None)
    after = mentor.state_dict()
    assert not torch.equal(after["unknown_logit"], before["unknown_logit"])
    assert all(torch.equal(after[k], v) for k, v in before.items() if k != "unknown_logit")
