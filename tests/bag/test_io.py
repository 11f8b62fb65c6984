"""Bag writing and reading with rosbags: both storages, bad messages, truncated bags."""

from __future__ import annotations

import numpy as np
import pytest

from perception.bag.io import BagError, BagReadStatus, BagWriter, chunk_msg, image_msg, read_bag
from perception.ros.audio import chunk_to_block
from perception.ros.images import image_to_rgb


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_round_trip(tmp_path, storage):
    rgb = np.random.default_rng(1).integers(0, 255, (8, 10, 3), dtype=np.uint8)
    pcm = np.arange(320, dtype=np.int16)
    with BagWriter(tmp_path / "b", storage) as bag:
        bag.write("/cam", image_msg(bag, rgb, 1_000, "cam"), 1_000)
        bag.write("/mic", chunk_msg(bag, pcm, 2_000, "mic", 4), 2_000)
    status = BagReadStatus()
    items = list(read_bag(tmp_path / "b", status))
    assert status.error == ""
    assert [(i.topic, i.log_time_ns) for i in items] == [("/cam", 1_000), ("/mic", 2_000)]
    np.testing.assert_array_equal(image_to_rgb(items[0].msg), rgb)
    np.testing.assert_array_equal(chunk_to_block(items[1].msg).samples * 32768, pcm)
    assert items[1].msg.sequence == 4


def test_existing_folder_is_refused(tmp_path):
    (tmp_path / "b").mkdir()
    with pytest.raises(BagError, match="already exists"):
        BagWriter(tmp_path / "b")


def test_missing_bag_is_an_error(tmp_path):
    with pytest.raises(BagError, match="cannot open bag"):
        list(read_bag(tmp_path / "nothing"))


def test_truncated_mcap_is_read_up_to_the_cut(tmp_path):
    # 1 s chunks (32 KB): rosbags writes ~1 MB MCAP chunks, so the first half of the file
    # holds complete chunks and the stream reader recovers them
    with BagWriter(tmp_path / "b", "mcap") as bag:
        for i in range(100):
            bag.write("/mic", chunk_msg(bag, np.full(16000, i, np.int16), i, "mic", i), i + 1)
    data_file = next((tmp_path / "b").glob("*.mcap"))
    data = data_file.read_bytes()
    data_file.write_bytes(data[: len(data) // 2])
    status = BagReadStatus()
    items = list(read_bag(tmp_path / "b", status))
    assert 10 < len(items) < 100
    assert [i.msg.sequence for i in items] == list(range(len(items)))
    assert status.error.startswith("bag ended early")


def test_truncated_sqlite_is_an_error_or_a_stated_early_end(tmp_path):
    with BagWriter(tmp_path / "b", "sqlite3") as bag:
        for i in range(100):
            bag.write("/mic", chunk_msg(bag, np.full(16000, i, np.int16), i, "mic", i), i + 1)
    db = next((tmp_path / "b").glob("*.db3"))
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    status = BagReadStatus()
    try:
        items = list(read_bag(tmp_path / "b", status))
    except BagError as exc:
        assert "cannot open bag" in str(exc)
        return
    assert len(items) < 100 and status.error
