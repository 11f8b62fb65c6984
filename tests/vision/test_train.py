import random

import numpy as np
import pytest
import torch

from perception.config import from_dict
from perception.errors import ConfigError
from perception.vision import weights
from perception.vision.mentor import MentorConfig
from perception.vision.train import CropSet, TrainConfig, degrade, episode, train

TINY_MENTOR = MentorConfig(channels=16, dynamic_hidden=4, code_dim=16, templates_per_language=4)


def test_held_out_languages_cannot_be_trained_on():
    with pytest.raises(ConfigError, match="held-out"):
        from_dict(
            TrainConfig,
            {"seen_languages": ["en", "ml"], "held_out_languages": ["ml"], "episode_languages": 2},
        )


def test_unknown_crops_need_languages_outside_the_episode():
    with pytest.raises(ConfigError, match="unknown_fraction"):
        TrainConfig(seen_languages=("en", "ar"), episode_languages=2, unknown_fraction=0.5)


def _crop_set(n_lang: int, per: int = 5) -> CropSet:
    labels = np.repeat(np.arange(n_lang), per)
    crops = torch.from_numpy(np.repeat(labels, 32 * 128).reshape(-1, 32, 128).astype(np.uint8))
    return CropSet.of(crops, labels, n_lang)


def test_episode_is_balanced_and_labels_left_out_languages_unknown():
    codes = ("en", "ar", "zh", "ru", "el")
    cfg = TrainConfig(
        seen_languages=codes, held_out_languages=("ml",), episode_languages=3,
        crops_per_language=4, unknown_fraction=0.5, template_pool=6, mentor=TINY_MENTOR,
        degrade_fraction=0.0,
    )  # fmt: skip
    pools = {c: torch.full((6, 1, 32, 128), float(i)) for i, c in enumerate(codes)}
    ep = episode(_crop_set(len(codes)), cfg, pools, random.Random(0))
    assert len(ep.ids) == 3 and ep.crops.shape == (18, 1, 32, 128)
    # each crop's pixels hold its language index (/255): targets agree with the crops
    lang_of_crop = torch.round(ep.crops[:, 0, 0, 0] * 255).long()
    assert torch.equal(lang_of_crop, ep.languages)
    for j, i in enumerate(ep.ids):
        assert (ep.languages[ep.targets == j] == i).all() and int((ep.targets == j).sum()) == 4
    unknown = ep.languages[ep.targets == 3]
    assert len(unknown) == 6 and not set(unknown.tolist()) & set(ep.ids)
    assert all(2 <= len(t) <= 4 for t in ep.templates)
    assert [int(t[0, 0, 0, 0]) for t in ep.templates] == ep.ids


def test_degrade_blurs_the_chosen_fraction_and_keeps_the_range():
    crops = torch.zeros(4, 1, 32, 128)
    crops[:, :, 8:24, ::8] = 1.0  # thin strokes, which shrinking smears
    assert torch.equal(degrade(crops, 0.0, random.Random(0)), crops)
    out = degrade(crops, 1.0, random.Random(0))
    assert out.shape == crops.shape and out.min() >= 0.0 and out.max() <= 1.0
    assert all(not torch.equal(out[i], crops[i]) for i in range(4))
    assert float(((out > 0.05) & (out < 0.95)).float().mean()) > 0.05  # grey: detail is lost


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
