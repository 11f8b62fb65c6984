import numpy as np
import pytest

from perception.vision.detectors import most_confident_view
from perception.vision.script_id import crop_region, crop_views, is_vertical, reflow_column


def _box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


@pytest.mark.parametrize(
    ("box", "vertical"),
    [
        (_box(10, 10, 110, 40), False),  # a line
        (_box(10, 10, 40, 110), True),  # a column
        (_box(10, 10, 40, 45), False),  # near square: no orientation to read
    ],
)
def test_is_vertical_reads_the_long_side(box, vertical):
    assert is_vertical(box) is vertical


def test_is_vertical_for_a_rotated_line():
    centre, angle = np.float32([100, 100]), np.deg2rad(80)
    along = np.float32([np.cos(angle), np.sin(angle)]) * 60
    across = np.float32([-np.sin(angle), np.cos(angle)]) * 12
    box = np.stack([centre - along - across, centre + along - across,
                    centre + along + across, centre - along + across])  # fmt: skip
    assert is_vertical(box)
    assert not is_vertical(box[:, ::-1])  # the same line mirrored across the diagonal: 10 deg


def test_reflow_lays_a_column_of_tiles_left_to_right():
    column = np.concatenate([np.full((10, 10), v, np.float32) for v in (0.2, 0.5, 0.9)])
    row = reflow_column(column)
    assert row.shape == (10, 30)
    assert [float(row[5, x]) for x in (5, 15, 25)] == pytest.approx([0.2, 0.5, 0.9])


def test_a_column_gets_three_views_and_a_line_one():
    image = np.full((200, 200, 3), 230, np.uint8)
    for k in range(3):  # three dark glyph-like blocks stacked in a column
        image[25 + 40 * k : 45 + 40 * k, 85:105] = 20
    views = crop_views(image, _box(75, 15, 115, 135))
    assert len(views) == 3 and all(v.shape == (32, 128) for v in views)
    # the reflowed view holds the three blocks side by side: ink in three separate runs
    ink_cols = views[2].max(0) > 0.5
    runs = np.flatnonzero(np.diff(ink_cols.astype(int)) == 1).size + int(ink_cols[0])
    assert runs == 3
    np.testing.assert_array_equal(views[0], crop_region(image, _box(75, 15, 115, 135)))
    assert len(crop_views(image, _box(20, 20, 180, 60))) == 1


def test_most_confident_view_picks_per_region_by_languages_only():
    prob = np.array([[0.5, 0.3, 0.2], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.6, 0.2, 0.2]])
    owner = np.array([0, 0, 0, 1])
    picked = most_confident_view(prob, owner, 2, languages=2)
    np.testing.assert_array_equal(picked, prob[[1, 3]])
    # the last column is "unknown": a view is never chosen for its unknown probability
    prob = np.array([[0.3, 0.1, 0.6], [0.4, 0.1, 0.5]])
    np.testing.assert_array_equal(most_confident_view(prob, np.zeros(2, int), 1, 2), prob[[1]])


def test_the_turned_view_is_the_line_read_the_other_way_up():
    image = np.full((200, 200, 3), 230, np.uint8)
    image[25:35, 85:105] = 20  # blocks of three heights down a column
    image[60:80, 85:105] = 20
    image[100:130, 85:105] = 20
    line, turned = crop_views(image, _box(75, 15, 115, 135))[:2]
    runs_line, runs_turned = _ink_runs(line), _ink_runs(turned)
    assert len(runs_line) == 3 and runs_line[0] != runs_line[-1]
    np.testing.assert_allclose(runs_turned, runs_line[::-1], atol=2)


def _ink_runs(crop: np.ndarray) -> list[int]:
    """Lengths of the runs of columns holding ink, left to right."""
    ink = np.concatenate([[0], (crop.max(0) > 0.5).astype(int), [0]])
    starts, ends = np.flatnonzero(np.diff(ink) == 1), np.flatnonzero(np.diff(ink) == -1)
    return list(ends - starts)
