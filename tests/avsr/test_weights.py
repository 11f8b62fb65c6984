"""The bundled visual checkpoint: card-checked, loads, and its models give the outputs the
pipeline expects on a rendered clip."""

import pytest

from perception.avsr import weights
from perception.avsr.dataset import render_clip, vocabulary
from perception.avsr.frontend import locate, track
from perception.avsr.model import run
from perception.errors import ChecksumError


def test_bundled_checkpoint_loads_and_reads_a_rendered_speaker():
    ckpt = weights.load()
    assert ckpt.vocabulary == vocabulary()
    audio, frames, stamps, (speech_s, _) = render_clip(
        "Take the toolbox to the garage.", "speaking", "nyc", 170, 20, 12
    )
    fixes = locate(ckpt.landmarks, frames)
    assert all(f.present > 0.5 for f in fixes)
    mt = track(ckpt.landmarks, frames, stamps, start_s=0.0, end_s=len(audio) / 16000)
    out = run(ckpt.visual, mt.crops)
    assert out.word_logits.shape == (len(mt.times_s), len(ckpt.vocabulary) + 1)
    act = out.activity()
    inside = (mt.times_s > speech_s[0] + 0.2) & (mt.times_s < speech_s[1] - 0.2)
    outside = (mt.times_s < speech_s[0] - 0.2) | (mt.times_s > speech_s[1] + 0.2)
    assert act[inside].mean() > act[outside].mean() + 0.3


def test_a_changed_checkpoint_fails_its_card(tmp_path, monkeypatch):
    for name in ("avsr-visual.pt", "avsr-visual.yaml"):
        (tmp_path / name).write_bytes((weights.WEIGHTS_DIR / name).read_bytes())
    with open(tmp_path / "avsr-visual.pt", "ab") as f:
        f.write(b"\0")
    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(ChecksumError, match="restore the file"):
        weights.load()
