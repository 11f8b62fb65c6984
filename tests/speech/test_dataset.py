import numpy as np
import pytest

from perception.speech.corpus import GENERAL, TRAIN_GENERAL, babble_sentences, robot_commands
from perception.speech.dataset import (
    SPLITS,
    build_train_split,
    mix_at_snr,
    split_sentences,
    train_sentences,
)
from perception.speech.ger import FEW_SHOT


def test_no_sentence_is_in_two_splits_and_sizes_match():
    splits = split_sentences(seed=0)
    texts = {name: {t for t, _ in items} for name, items in splits.items()}
    names = list(texts)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not texts[a] & texts[b], (a, b)
    for name, (n_cmd, n_gen) in SPLITS.items():
        kinds = [k for _, k in splits[name]]
        assert (kinds.count("command"), kinds.count("general")) == (n_cmd, n_gen)
    assert split_sentences(seed=0) == splits and split_sentences(seed=1) != splits


def test_the_training_split_shares_no_sentence_with_calibration_dev_or_test():
    evaluated = {t for rows in split_sentences(seed=0).values() for t, _ in rows}
    train = [t for t, _ in train_sentences(seed=0)]
    assert len(train) == len(set(train)) and not set(train) & evaluated
    assert set(TRAIN_GENERAL) <= set(train) and not set(TRAIN_GENERAL) & set(GENERAL)
    assert set(train) | evaluated == set(robot_commands()) | set(GENERAL) | set(TRAIN_GENERAL)


def test_the_training_split_renders_once_and_is_reused(tmp_path):
    items = build_train_split(tmp_path, seed=0, limit=2)
    assert [i.split for i in items] == ["train", "train"]
    assert all((tmp_path / i.path).is_file() for i in items)
    stamp = (tmp_path / "train.json").stat().st_mtime_ns
    assert build_train_split(tmp_path, seed=0, limit=2) == items
    assert (tmp_path / "train.json").stat().st_mtime_ns == stamp


def test_prompt_examples_and_babble_are_not_data():
    data = set(robot_commands()) | set(GENERAL) | set(TRAIN_GENERAL)
    assert not {answer for _, answer in FEW_SHOT} & data
    assert not set(babble_sentences()) & data


@pytest.mark.parametrize("snr_db", [0.0, 5.0, 20.0])
def test_mixing_hits_the_requested_snr(snr_db):
    rng = np.random.default_rng(0)
    speech = 0.1 * np.sin(np.arange(16000) / 5.0).astype(np.float32)
    noise = rng.standard_normal(16000)
    mixed = mix_at_snr(speech, noise, snr_db)
    residual = mixed.astype(np.float64) - speech
    measured = 10 * np.log10(np.mean(speech.astype(np.float64) ** 2) / np.mean(residual**2))
    assert measured == pytest.approx(snr_db, abs=0.01)
