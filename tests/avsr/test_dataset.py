import numpy as np
import pytest

from perception.avsr.dataset import (
    SPLITS,
    AvItem,
    eval_sentences,
    frame_labels,
    noisy_audio,
    plan_split,
    render_clip,
    train_plan,
    vocabulary,
    words_of,
)


def test_no_sentence_in_two_splits_and_every_word_in_the_vocabulary():
    evals = eval_sentences(0)
    used = {
        s: {p["text"] for p in plan_split(s, evals[s], SPLITS[s], 1) if p["text"]} for s in SPLITS
    }
    train = {p["text"] for p in train_plan(0, 850, 113)}
    names = [*SPLITS, "train"]
    groups = [*used.values(), train]
    for i in range(len(groups)):
        for j in range(i + 1, len(groups)):
            assert not groups[i] & groups[j], (names[i], names[j])
    vocab = set(vocabulary())
    assert all(set(words_of(t)) <= vocab for g in groups for t in g)


def test_labels_follow_the_words_and_only_a_speaking_face_is_active():
    audio, frames, stamps, (speech_s, words) = render_clip(
        "Go to the garage.", "speaking", "us", 170, 25, 7
    )
    assert frames.shape == (len(stamps), 128, 128, 3)
    assert [w for _, _, w in words] == ["go", "to", "the", "garage"]
    item = AvItem(
        "av-x-0001",
        "x",
        "speaking",
        "Go to the garage.",
        "us",
        170,
        25,
        7,
        "white",
        len(audio) / 16000,
        speech_s,
        words,
        "",
        "",
    )
    vocab = {w: i for i, w in enumerate(vocabulary())}
    times = np.arange(0, item.duration_s, 0.04)
    w, a = frame_labels(item, times, vocab)
    mid = (words[3][0] + words[3][1]) / 2
    assert w[np.argmin(np.abs(times - mid))] == vocab["garage"] + 1
    assert a[0] == 0 and a.max() == 1 and w[0] == 0
    off = frame_labels(AvItem(**{**item.__dict__, "kind": "off-camera"}), times, vocab)
    assert off[0].max() == 0 and off[1].max() == 0


def test_noise_is_mixed_at_the_snr_and_is_the_same_every_time():
    rng = np.random.default_rng(0)
    clean = (rng.standard_normal(16000) * 0.1).astype(np.float32)
    item = AvItem(
        "av-test-0003",
        "test",
        "speaking",
        "x",
        "us",
        170,
        25,
        1,
        "pink",
        1.0,
        (0.0, 1.0),
        (),
        "",
        "",
    )
    a, b = noisy_audio(clean, item, 0.0), noisy_audio(clean, item, 0.0)
    assert np.array_equal(a, b)
    noise = a - clean
    snr = 10 * np.log10(np.mean(clean**2) / np.mean(noise**2))
    assert snr == pytest.approx(0.0, abs=0.2)
    assert noisy_audio(clean, item, None) is clean
