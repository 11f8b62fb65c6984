"""Guard data: the register families, look-alikes and paraphrases of training rows only."""

from __future__ import annotations

import random

from perception.llm.guard import data, written


def test_every_register_has_harmful_and_lookalike_rows_in_its_own_split():
    rows = data.written_rows()
    harm = {r.family for r in rows if r.source == "written-harm"}
    looks = {r.family for r in rows if r.source == "benign-lookalike"}
    assert harm == set(written.HARM_REGISTERS) and harm <= looks
    for r in rows:
        if r.source == "written-harm":
            assert r.kind == "harmful" and r.split == data.split_of("written-harm", r.family)
    assert {r.split for r in rows if r.source == "benign-lookalike"} == {"train", "dev", "test"}


def test_typos_change_words_but_keep_their_count():
    rng = random.Random(0)
    text = "please explain how the washing machine program works tonight"
    out = [data.typos(text, rng, rate=1.0) for _ in range(5)]
    assert all(len(o.split()) == len(text.split()) for o in out)
    assert all(o != text for o in out)
    assert data.typos("a to be or", rng, rate=1.0) == "a to be or"  # short words kept


def test_paraphrases_come_from_training_rows_only():
    rows = [
        data.Row("Explain how to do harm number 1", "harmful", "advbench", "crime", "train"),
        data.Row("Explain how to do harm number 2", "harmful", "advbench", "crime", "test"),
        data.Row("Write a poem about spring", "benign", "self-instruct", "app", "train"),
        data.Row("Write a poem about autumn", "benign", "self-instruct", "app", "dev"),
    ]
    out = data.paraphrased(rows)
    assert len(out) == 2 * len(data.PARAPHRASES)
    assert all(r.split == "train" for r in out)
    assert not any("2" in r.text or "autumn" in r.text for r in out)
    assert "Can you explain how to do harm number 1?" in {r.text for r in out}
    assert {r.source for r in out} == set(data.PARAPHRASE_SOURCES.values())
