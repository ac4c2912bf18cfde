"""reid-mot's output interpolation (apps/reid_mot/interpolate.py) and the preset reid tracker's wider motion gate."""
from __future__ import annotations

import numpy as np

from apps.reid_mot.interpolate import interpolate_gaps
from apps.reid_mot.matching import CHI2_95, mahalanobis_gate
from apps.reid_mot.pipeline import interpolate_seconds
from apps.reid_mot.tracker import APPEARANCE_MOTION_CHI2, make_tracker
from apps.reid_mot.track import Track
from vidml.cli import main


def _row(frame, tid, x, y=10.0, w=20.0, h=40.0, conf=0.9):
    return [frame, tid, x, y, w, h, conf, -1, -1, -1]


def test_gaps_up_to_max_are_filled_linearly_and_longer_ones_kept():
    rows = np.array([_row(1, 1, 0.0), _row(4, 1, 30.0, w=26.0), _row(10, 1, 90.0), _row(2, 2, 5.0)])
    out = interpolate_gaps(rows, max_gap=2)
    t1 = out[out[:, 1] == 1]
    assert t1[:, 0].tolist() == [1, 2, 3, 4, 10]  # the 5-frame gap (5..9) stays open
    assert np.allclose(t1[1, 2:6], [10, 10, 22, 40]) and np.allclose(t1[2, 2:6], [20, 10, 24, 40])
    assert out[:, 0].tolist() == sorted(out[:, 0].tolist())  # sorted by frame
    assert len(interpolate_gaps(rows, 0)) == len(rows) == len(interpolate_seconds(rows, 0.0, 25.0))
    assert len(interpolate_seconds(rows, 0.2, 25.0)) == 4 + 2 + 5  # 0.2 s at 25 fps = 5 frames: both gaps filled


def test_reid_preset_gate_is_wider_than_the_95_quantile():
    track = Track(1, np.array([100.0, 100, 20, 40]), 0.9, None)
    track.predict()
    far = np.array([[100.0 + dx, 100, 20, 40] for dx in (0, 24, 50)])
    d2 = track.kalman.gating_distance(far)
    assert d2[0] < CHI2_95[4] < d2[1] < APPEARANCE_MOTION_CHI2  # the middle box: only the wide gate admits it
    assert mahalanobis_gate([track], far).tolist() == [[True, False, d2[2] <= CHI2_95[4]]]
    gate = make_tracker("reid", lambda f, b: np.ones((len(b), 4), np.float32)).motion_gate
    assert gate([track], far)[0, :2].tolist() == [True, True]


def test_tentative_frames_are_backfilled_once_confirmed_and_never_confirmed_tracks_add_nothing():
    from apps.reid_mot.runner import run_frames

    walker = lambda k: [10.0 + 2 * k, 20, 20, 40, 0.9]  # noqa: E731
    dets = {k: [walker(k)] + ([[200.0, 20, 20, 40, 0.9]] if k == 2 else []) for k in range(1, 6)}
    for backfill, first in ((True, 1), (False, 3)):
        res = run_frames(range(1, 6), make_tracker("sort"), lambda k, _: np.array(dets[k]), backfill=backfill)
        assert res.rows[:, 0].tolist() == list(range(first, 6)) and set(res.rows[:, 1]) == {1}
    assert np.allclose(res.rows[0, 2:6], walker(3)[:4], atol=2)  # rows keep the tracker's boxes


def test_negative_interpolate_is_one_line_exit_2(tmp_path, capsys):
    assert main(["reid-mot", str(tmp_path), "--interpolate", "-1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--interpolate -1" in err
