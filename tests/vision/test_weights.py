import shutil

import pytest

from perception.errors import ChecksumError
from perception.vision import weights


def test_bundled_checkpoint_matches_its_card_and_holds_no_held_out_language():
    ckpt = weights.load()
    assert "ml" not in ckpt.seen_languages and "th" not in ckpt.seen_languages
    assert ckpt.script_id_classes == ckpt.seen_languages
    assert weights.bundled_path().stat().st_size < 5_000_000


def test_changed_weights_are_refused(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    shutil.copytree(weights.WEIGHTS_DIR, folder)
    (folder / "mentor-small.pt").write_bytes(b"not a checkpoint")
    monkeypatch.setattr(weights, "WEIGHTS_DIR", folder)
    monkeypatch.setattr(weights, "BUNDLED_CARD", folder / "mentor-small.yaml")
    with pytest.raises(ChecksumError, match="perception vision train"):
        weights.bundled_path()
