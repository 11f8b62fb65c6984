"""Trained files shipped in the package beside their model cards (``NAME.yaml`` + files).

Project cards in ``models/`` are PyPI-pinned; a file trained by this project lives beside its
card instead (a local-source card whose files are relative to the card's folder) and is checked
against the card's sha256 on every load. This module resolves such a card; it does not load
any model.
"""

from __future__ import annotations

from pathlib import Path

from perception.errors import ChecksumError, ModelNotFoundError
from perception.models.cards import ModelCard, read_card
from perception.models.store import sha256_path


def bundled_card(folder: Path, name: str, hint: str) -> ModelCard:
    """The card ``folder/name.yaml``; ``hint`` says how to make the model when it is missing."""
    path = Path(folder) / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in Path(folder).glob("*.yaml"))) or "none"
        raise ModelNotFoundError(f"no bundled model {name!r} in {folder} (known: {known}); {hint}")
    return read_card(path)


def checked_entry(folder: Path, name: str, hint: str) -> Path:
    """The entry of a bundled card after checking each of its files' sha256."""
    card = bundled_card(folder, name, hint)
    for f in card.source.files:
        path = Path(folder) / f.path
        if not path.exists():
            raise ModelNotFoundError(f"{path} (model {name!r}) is missing; {hint}")
        got = sha256_path(path)
        if got != f.sha256:
            raise ChecksumError(
                f"{path} has sha256 {got[:12]}…, its card {name}.yaml records {f.sha256[:12]}…; "
                f"restore it (git checkout) or {hint}"
            )
    return Path(folder) / card.entry
