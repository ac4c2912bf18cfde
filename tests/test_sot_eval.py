"""OTB one-pass metrics (vidml.eval.sot) against values computed by hand."""
from __future__ import annotations

import numpy as np
import pytest

from vidml.errors import BadInput
from vidml.eval.sot import IOU_THRESHOLDS, evaluate, plot_curves

GT = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], float)
# frame 1: exact (IoU 1, error 0); frame 2: shifted 5 px (IoU 50/150 = 1/3, error 5);
# frame 3: far away (IoU 0, error sqrt(100^2 + 100^2) = 141.4)
PRED = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [100, 100, 10, 10]], float)


def test_thresholds_are_the_otb_ones():
    assert len(IOU_THRESHOLDS) == 21
    assert IOU_THRESHOLDS[0] == 0 and IOU_THRESHOLDS[-1] == 1
    assert np.allclose(np.diff(IOU_THRESHOLDS), 0.05)


def test_success_and_precision_by_hand():
    r = evaluate(PRED, GT)
    assert r.frames == 3
    # IoU 1 beats the 20 thresholds below 1; IoU 1/3 beats 0, .05, ..., .30 (7); IoU 0 beats none
    assert r.auc == pytest.approx((20 / 21 + 7 / 21 + 0) / 3)
    assert r.success[0] == pytest.approx(2 / 3)          # tau = 0: frames with any overlap
    assert r.success[-1] == 0.0                          # tau = 1: IoU > 1 never
    assert r.p20 == pytest.approx(2 / 3)                 # errors 0 and 5 are <= 20, 141 is not
    assert r.precision[4] == pytest.approx(1 / 3)        # r = 4 px: only the exact frame
    assert r.precision[5] == pytest.approx(2 / 3)        # r = 5 px: the 5 px error counts (<=)


def test_frames_without_ground_truth_are_not_scored():
    gt = np.vstack([GT, [[np.nan] * 4], [[3, 3, 0, 0]]])
    pred = np.vstack([PRED, [[50, 50, 5, 5]], [[3, 3, 5, 5]]])
    r = evaluate(pred, gt)
    assert r.frames == 3
    assert r.auc == pytest.approx(evaluate(PRED, GT).auc)


def test_perfect_tracker_scores_20_of_21():
    r = evaluate(GT, GT)
    assert r.auc == pytest.approx(20 / 21)
    assert r.p20 == 1.0


def test_length_mismatch_is_a_user_error():
    with pytest.raises(BadInput):
        evaluate(PRED[:2], GT)


def test_plots_are_written(tmp_path):
    paths = plot_curves({"a": evaluate(PRED, GT), "b": evaluate(GT, GT)}, tmp_path)
    assert [p.name for p in paths] == ["success.png", "precision.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000
