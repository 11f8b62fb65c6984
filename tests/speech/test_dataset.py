import numpy as np
import pytest

from perception.speech.corpus import GENERAL, babble_sentences, robot_commands
from perception.speech.dataset import SPLITS, mix_at_snr, split_sentences
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


def test_prompt_examples_and_babble_are_not_data():
    data = set(robot_commands()) | set(GENERAL)
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
