"""The tracker's pluggable parts: Protocol contracts, the built-in costs by name, a clear error otherwise."""
from __future__ import annotations

import numpy as np
import pytest

from apps.reid_mot.appearance import HistogramEncoder, gallery_cost
from apps.reid_mot.costs import COSTS, Encoder, get_cost
from apps.reid_mot.matching import iou_cost
from apps.reid_mot.tracker import Tracker, make_tracker


def test_encoders_fit_the_protocol_and_costs_resolve_by_name():
    assert isinstance(HistogramEncoder(), Encoder)
    assert get_cost("iou") is iou_cost and get_cost("gallery") is gallery_cost
    with pytest.raises(ValueError, match="unknown cost 'cosine'; choose one of gallery, iou"):
        get_cost("cosine")
    boxes = np.array([[0, 0, 10, 20], [50, 50, 10, 20]], float)
    assert np.allclose(get_cost("iou")(boxes, boxes), [[0, 1], [1, 0]])
    assert set(COSTS) == {"gallery", "iou", "mahalanobis_gate", "mahalanobis"}


def test_a_plugged_cost_is_the_one_the_tracker_uses():
    """A box cost that forbids every match (cost 2 > max_iou_dist) keeps two overlapping detections apart."""
    dets = np.array([[100, 100, 40, 80, 0.9]], float)
    calls = []

    def never(track_boxes, det_boxes):
        calls.append(len(track_boxes))
        return np.full((len(track_boxes), len(det_boxes)), 2.0)

    blocked, plain = Tracker(motion_cost=never, n_init=1), make_tracker("sort", n_init=1)
    for _ in range(3):
        blocked.update(dets)
        plain.update(dets)
    assert calls and len({t.track_id for t in plain.tracks}) == 1
    assert len({t.track_id for t in blocked.tracks}) == 3
