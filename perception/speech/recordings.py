"""Real recordings with their reference transcripts: a folder of audio files and a
``transcripts.tsv`` beside them (columns ``file``, ``reference``, and optionally ``kind``).

Owns reading that table and naming each recording's groups (its source, from the file name
``<lang>_<source>_...``, and its kind). It knows nothing about recognition; the recordings are
development data for choosing and tuning, never training data.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from perception.errors import ConfigError

TABLE = "transcripts.tsv"


@dataclass(frozen=True)
class Recording:
    """One real recording: its file, what was said, and its groups."""

    path: Path
    reference: str
    source: str
    kind: str

    @property
    def name(self) -> str:
        return self.path.name


def _source(file_name: str) -> str:
    """``en_ljspeech_LJ001-0009.wav`` → ``ljspeech``; a name without that shape is its own."""
    parts = Path(file_name).stem.split("_")
    return parts[1] if len(parts) >= 3 else Path(file_name).stem


def _spoken(reference: str) -> str:
    """The reference with brackets removed but their words kept: in read speech a parenthesis
    is read aloud, while Whisper's English normaliser deletes bracketed text as a sound tag
    (LJ001-0024 would lose 13 of its 19 words)."""
    return re.sub(r"[()\[\]]", " ", reference)


def load_recordings(folder: Path) -> list[Recording]:
    """Every row of ``folder/transcripts.tsv`` whose audio file exists, in file-name order.

    Raises:
        ConfigError: no table, a table without ``file`` and ``reference`` columns, or a row
            naming a file that is not in the folder.
    """
    table = Path(folder) / TABLE
    if not table.is_file():
        raise ConfigError(
            f"{folder}: no {TABLE}; expected a tab-separated table with the columns file and "
            "reference beside the audio files"
        )
    with table.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows or not {"file", "reference"} <= set(rows[0]):
        raise ConfigError(f"{table}: expected the columns file and reference (tab-separated)")
    out = []
    for row in rows:
        path = Path(folder) / row["file"]
        if not path.is_file():
            raise ConfigError(f"{table}: {row['file']} is listed but not in {folder}")
        kind = row.get("kind") or "speech"
        out.append(Recording(path, _spoken(row["reference"]), _source(row["file"]), kind))
    return sorted(out, key=lambda r: r.name)
