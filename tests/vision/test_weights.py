import shutil

import pytest

from perception.errors import ChecksumError, ModelNotFoundError
from perception.vision import weights


@pytest.mark.parametrize("name", ["mentor-small", "mentor-large"])
def test_bundled_checkpoints_match_their_cards_and_hold_no_held_out_language(name):
    ckpt = weights.load(weights.resolve(name))
    assert "ml" not in ckpt.seen_languages and "th" not in ckpt.seen_languages
    assert ckpt.script_id_classes == ckpt.seen_languages
    assert weights.bundled_path(name).stat().st_size < 8_000_000


def test_default_is_mentor_large_and_paths_pass_through(tmp_path):
    assert weights.resolve("") == weights.bundled_path("mentor-large")
    assert weights.resolve(str(tmp_path / "m.pt")) == tmp_path / "m.pt"
    with pytest.raises(ModelNotFoundError, match="mentor-large, mentor-small"):
        weights.resolve("mentor-huge")


def test_changed_weights_are_refused(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    shutil.copytree(weights.WEIGHTS_DIR, folder)
    (folder / "mentor-small.pt").write_bytes(b"not a checkpoint")
    monkeypatch.setattr(weights, "WEIGHTS_DIR", folder)
    with pytest.raises(ChecksumError, match="perception vision train"):
        weights.bundled_path("mentor-small")
