"""Real-recording tables."""

import pytest

from perception.errors import ConfigError
from perception.speech.recordings import load_recordings


def _table(folder, rows: str) -> None:
    (folder / "transcripts.tsv").write_text("file\treference\tkind\n" + rows, encoding="utf-8")


def test_rows_groups_and_bracketed_words(tmp_path):
    for name in ("en_lj_a.wav", "en_cmd_b.wav"):
        (tmp_path / name).write_bytes(b"")
    _table(
        tmp_path, 'en_lj_a.wav\tdated (which was printed)\tread\nen_cmd_b.wav\t"go ""now"""\t\n'
    )
    a, b = load_recordings(tmp_path)
    assert (a.name, a.source, a.kind) == ("en_cmd_b.wav", "cmd", "speech")
    assert a.reference == 'go "now"'
    assert b.reference.split() == ["dated", "which", "was", "printed"]


def test_missing_table_or_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="transcripts.tsv"):
        load_recordings(tmp_path)
    _table(tmp_path, "en_x_gone.wav\tsomething\tread\n")
    with pytest.raises(ConfigError, match="en_x_gone.wav is listed"):
        load_recordings(tmp_path)
