import pytest
import torch

from perception.config import from_dict
from perception.errors import ConfigError
from perception.vision import weights
from perception.vision.mentor import MentorConfig
from perception.vision.synth import GroundTruth
from perception.vision.train import (
    IGNORE,
    TrainConfig,
    episode_loss,
    label_map,
    rank_loss,
    train,
)


def test_held_out_languages_cannot_be_trained_on():
    with pytest.raises(ConfigError, match="held-out"):
        from_dict(
            TrainConfig,
            {"seen_languages": ["en", "ml"], "held_out_languages": ["ml"], "episode_languages": 2},
        )


def test_label_map_marks_language_and_dont_care():
    square = ((8.0, 8.0), (40.0, 8.0), (40.0, 40.0), (8.0, 40.0))
    regions = [
        GroundTruth(square, "ar", "arabic", "x"),
        GroundTruth(tuple((x + 60, y) for x, y in square), "en", "latin", "y", True),
    ]
    lab = label_map(regions, ["en", "ar"], (16, 32))
    assert lab[5, 5] == 2 and lab[5, 20] == IGNORE and lab[0, 0] == 0


def test_loss_prefers_correct_maps():
    labels = torch.zeros(1, 8, 8, dtype=torch.uint8)
    labels[0, :4] = 1  # language index 0 on the top half
    good = torch.full((1, 2, 8, 8), -5.0)
    good[0, 0, :4] = 5.0
    bad = -good
    assert episode_loss(good, labels, [0, 1]) < episode_loss(bad, labels, [0, 1])


@pytest.mark.model
def test_tiny_run_writes_a_loadable_checkpoint(tmp_path, store):
    cfg = TrainConfig(
        output=str(tmp_path / "tiny.pt"),
        seen_languages=("en", "ar"),
        held_out_languages=("ml",),
        train_scenes=6,
        languages_per_scene=2,
        size_px=(256, 192),
        steps=3,
        episode_languages=2,
        crop_cells=16,
        template_pool=6,
        script_id_steps=3,
        script_id_batch=4,
        mentor=MentorConfig(
            finder_channels=8, dynamic_hidden=4, code_dim=16, templates_per_language=3
        ),
    )
    path = train(cfg, store, log=lambda _: None)
    ckpt = weights.load(path)
    assert ckpt.seen_languages == ["en", "ar"] and ckpt.meta["train_config"]["steps"] == 3
    assert "ml" not in ckpt.seen_languages


def test_rank_loss_prefers_the_right_map_and_ignores_background():
    labels = torch.zeros(1, 4, 4, dtype=torch.uint8)
    labels[0, :2] = 3  # language index 2 on the top half
    right = torch.zeros(1, 2, 4, 4)
    right[0, 1, :2] = 4.0  # map 1 is language index 2
    assert rank_loss(right, labels, [0, 2]) < rank_loss(-right, labels, [0, 2])
    assert rank_loss(right, torch.zeros_like(labels), [0, 2]) == 0.0
