"""The real-face front end: track linking on made-up detections (fast), and MTCNN on a real
GRID frame (model test: needs facenet-pytorch and the shared clips)."""

from pathlib import Path

import numpy as np
import pytest

from perception.avsr.realface import FaceDetection, link_tracks, mouth_track

CLIPS = Path(__file__).resolve().parents[3] / "shared" / "data" / "av"


def _face(x: float) -> FaceDetection:
    marks = np.array([[x + 10, 30], [x + 30, 30], [x + 20, 40], [x + 12, 50], [x + 28, 50]])
    return FaceDetection((x, 10.0, x + 40, 60.0), marks.astype(np.float32), 0.99)


def test_two_faces_keep_their_tracks_through_a_missed_frame_and_a_new_face_starts_one():
    frames = [[_face(0), _face(100)], [_face(102)], [_face(2), _face(104)], [_face(200)]]
    tracks = link_tracks(frames)
    assert len(tracks) == 3 and all(len(t) == 4 for t in tracks)
    left, right, late = tracks
    assert left[1] is None and left[2].box_px[0] == 2
    assert [d.box_px[0] for d in right[:3]] == [100, 102, 104] and right[3] is None
    assert late[:3] == [None, None, None] and late[3].box_px[0] == 200


def test_no_faces_gives_no_tracks_and_a_track_resamples_to_25_hz():
    assert link_tracks([[], []]) == []
    frames = np.zeros((10, 80, 80, 3), np.uint8)
    stamps = np.arange(10) / 30.0  # a 30 fps camera
    faces = [None, _face(5), *[_face(5)] * 7, None]
    mt = mouth_track(frames, stamps, faces)
    assert mt.crops.shape[1:] == (32, 32) and np.all(np.diff(mt.times_s) > 0)
    assert mt.present[0] == 0.0 and mt.present[1] > 0.9


@pytest.mark.model
def test_mtcnn_finds_the_face_and_its_mouth_on_a_real_grid_frame():
    pytest.importorskip("facenet_pytorch", reason="install facenet-pytorch (scripts/setup.sh)")
    video = CLIPS / "grid_s1_bbbz8n.mpg"
    if not video.is_file():
        pytest.skip(f"no GRID clip at {video}")
    import torch

    from perception.avsr.realclips import read_video
    from perception.avsr.realface import MtcnnDetector

    torch.set_num_threads(1)
    frames, _ = read_video(video)
    two = np.concatenate([frames[40:42], frames[40:42]], axis=2)  # the same face twice
    det = MtcnnDetector()
    one = det.detect(np.concatenate([frames[40:42], np.zeros_like(frames[:1])]))
    both = det.detect(two)
    assert [len(f) for f in one] == [1, 1, 0]
    face = one[0][0]
    x0, y0, x1, y1 = face.box_px
    mouth = face.mouth_landmarks()[4:]
    assert x0 < mouth[0] < x1 and (y0 + y1) / 2 < mouth[1] < y1  # the mouth: lower half of the box
    assert [len(f) for f in both] == [2, 2]
